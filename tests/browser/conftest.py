"""The workbench in a real browser: Debian's Chromium (``stack/install.sh`` installs it) driven by
Playwright, on the end-to-end set-up (the real API serving the pages, the dev server; a module
runs the worker for as long as its processes are looked at).

Playwright never downloads a browser here (no ``playwright install``): it launches
/usr/bin/chromium. One browser for the session, a new context (cookies, language) for each
person in each test. Whatever goes wrong on a page that the test did not ask for (a console error,
a script error, a request to our own host that failed or was refused) fails the test, and the main
pages are kept as screenshots in ``.artefacts/screenshots/``, named by page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    async_playwright,
)

from db.seed import DEMO_PASSWORD
from tests.e2e.conftest import api_url, e2e_settings

__all__ = ["api_url", "e2e_settings"]

CHROMIUM = Path("/usr/bin/chromium")
# Headless without a sandbox (root in a container); and no connection of Chromium's own (updates,
# sync, QUIC probes): this machine's closed network refuses them, which would read as errors.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artefacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: stack/install.sh installs Debian's chromium"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


class Tab:
    """One person's tab at the workbench. It keeps what went wrong on the page, unasked."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        # Addresses whose refusal (a 403 or 404 page) is what the test is looking for.
        self.refusals_asked: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._answered)

    def _ours(self, url: str) -> bool:
        return url.startswith(self.base)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium logs a refused page as "Failed to load resource" with the page's address.
        if message.location.get("url") in self.refusals_asked:
            return
        self.errors.append(f"console: {message.text} at {message.location.get('url')}")

    def _failed(self, request: Request) -> None:
        # A load the browser itself abandoned (the favicon of a page navigated away from at
        # once) is no failure of ours; a refused or broken one is.
        if self._ours(request.url) and request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} {request.failure}")

    def _answered(self, response: Response) -> None:
        refused = self._ours(response.url) and response.status >= 400
        if refused and response.url not in self.refusals_asked:
            self.errors.append(f"{response.status} from {response.url}")

    async def open(self, path: str, *, refused: int | None = None) -> Response:
        """Go to ``path``; ``refused`` is the error status the test expects the page to have."""
        url = self.base + path
        if refused is not None:
            self.refusals_asked.add(url)
        response = await self.page.goto(url)
        assert response is not None, url
        assert response.status == (refused or 200), f"{url}: {response.status}"
        return response

    async def sign_in(self, email: str) -> None:
        await self.open("/workbench/login")
        form = self.page.locator("main form")
        await form.locator("input[name=email]").fill(email)
        await form.locator("input[name=password]").fill(DEMO_PASSWORD)
        await form.locator("button[type=submit]").click()
        await self.page.wait_for_url(self.base + "/workbench/")

    async def shoot(self, name: str) -> Path:
        """A whole-page screenshot kept as a test artefact, named by the page it shows."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


OpenTab = Callable[..., Awaitable[Tab]]


@pytest.fixture
async def open_tab(browser: Browser, api_url: str) -> AsyncIterator[OpenTab]:
    """Opens a tab in a context of its own (its own cookies), signed in as ``email`` if given,
    in Chinese unless ``locale`` says otherwise; after the test, no tab may have had an error."""
    tabs: list[Tab] = []

    async def open_one(email: str | None = None, *, locale: str = "zh-CN") -> Tab:
        context = await browser.new_context(
            locale=locale, viewport=VIEWPORT, timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(15_000)
        tab = Tab(await context.new_page(), api_url)
        tabs.append(tab)
        if email is not None:
            await tab.sign_in(email)
        return tab

    yield open_one
    errors = [error for tab in tabs for error in tab.errors]
    for tab in tabs:
        await tab.page.context.close()
    assert not errors, "errors on the pages:\n" + "\n".join(errors)
