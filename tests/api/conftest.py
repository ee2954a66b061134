"""The API tests share the end-to-end modules' real API over HTTP (seeded, on the dev server),
and its worker for the tests that start a process."""

from tests.e2e.conftest import api_url, e2e_settings, worker

__all__ = ["api_url", "e2e_settings", "worker"]
