"""The workbench's tests run on the end-to-end set-up: the real API (which serves the pages) over
HTTP, the dev server and a worker."""

from tests.e2e.conftest import api_url, e2e_settings, worker

__all__ = ["api_url", "e2e_settings", "worker"]
