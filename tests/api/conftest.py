"""The API tests share the end-to-end modules' real API over HTTP (seeded, on the dev server)."""

from tests.e2e.conftest import api_url, e2e_settings

__all__ = ["api_url", "e2e_settings"]
