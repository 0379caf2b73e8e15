"""Shared pieces of the browser tests: Debian's Chromium via Playwright, log in, screenshots.

Importing this module skips the importing test module, with the reason, where no Chromium or no
Playwright is installed (a developer machine); `.ci/run` installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from joule.runtime import Joule
from tests.conftest import TEST_DB
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, api_client
from tests.e2e.test_charging_session import eventually
from tests.web.conftest import base_url

CHROMIUM = os.environ.get("JOULE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium) to run the browser "
        "tests; .ci/run does",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install -e .[dev])"
)
Page = playwright_api.Page
expect = playwright_api.expect


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """A fresh browser page; the browser is closed before Joule stops (fixture order)."""
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        tab = await context.new_page()
        tab.set_default_timeout(5000)
        yield tab
        await context.close()
        await browser.close()


async def wait_logged(joule: Joule, station_id: str, text: str) -> None:
    """Wait until the station's message log holds `text`. The activity recorder flushes it every
    0.5 s in the background: on a loaded CI box a fixed wait for that may end before the
    flush, and the page, loaded once, would never show it."""
    api = await api_client(joule)
    try:

        async def logged() -> bool:
            resp = await api.get(f"/stations/{station_id}/messages", params={"limit": 200})
            return resp.status_code == 200 and text in resp.text

        await eventually(logged)
    finally:
        await api.aclose()


async def shot(tab: Page, name: str) -> None:
    """Save a full-page screenshot, one file per page and database."""
    ARTIFACTS.mkdir(exist_ok=True)
    await tab.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{TEST_DB}.png"), full_page=True)


async def log_in(tab: Page, joule: Joule, target: str) -> None:
    """Open a page, get sent to the login form, log in, land on the page."""
    # The first page load of a fresh Joule may be slow on a loaded CI machine.
    await tab.goto(base_url(joule) + target, timeout=20_000)
    await tab.get_by_label("E-mail").fill(ADMIN_EMAIL)
    await tab.get_by_label("Password").fill(ADMIN_PASSWORD)
    await tab.get_by_role("button", name="Log in").click()
    await expect(tab).to_have_url(base_url(joule) + target)
