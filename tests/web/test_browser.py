"""The dashboard in a real browser (Playwright driving Debian's Chromium) against a real Joule.

Skipped, with the reason, where no Chromium is installed (a developer machine); `.ci/run` installs
it, so CI runs these. Screenshots of the main pages go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from joule.runtime import Joule
from tests.e2e.test_charging_session import add_token
from tests.e2e.test_commands import booted
from tests.web.browser import Page, expect, page, shot, wait_logged
from tests.web.browser import log_in as shared_log_in
from tests.web.conftest import base_url

__all__ = ["page"]  # the fixture


async def log_in(tab: Page, joule: Joule, target: str) -> None:
    """Open a page, see the redirect to the login form (screenshot), then log in as shared."""
    await tab.goto(base_url(joule) + target, timeout=20_000)
    await expect(tab).to_have_url(f"{base_url(joule)}/ui/login?next={target}")
    await shot(tab, "login")
    await shared_log_in(tab, joule, target)


def _at(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_station_page_follows_the_station_live_and_sends_a_reset(
    joule: Joule, api: httpx.AsyncClient, page: Page
) -> None:
    st = await booted(joule, api, "BR-1", "1.6")
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    )
    await log_in(page, joule, "/ui/stations/BR-1")
    await expect(page.locator("#connection")).to_have_text("connected")
    await expect(page.locator("#live-state")).to_have_text("● live")  # SSE stream open
    await page.evaluate("window.__notReloaded = true")
    status = page.locator('[data-connector="BR-1:1:1"] [data-field="status"]')
    error = page.locator('[data-connector="BR-1:1:1"] [data-field="error"]')
    await expect(status).to_have_text("Available")

    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    )
    # Issue 4: a StatusNotification shows on an open page within one second, without reload.
    # (A second is the goal; 5 s is what a loaded CI box can keep: both suites, Chromium and
    # PostgreSQL on two cores. There is no periodic refresh it could be mistaken for.)
    await expect(status).to_have_text("Charging", timeout=5000)
    await st.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"},
    )
    await expect(status).to_have_text("Faulted", timeout=5000)
    await expect(error).to_have_text("GroundFailure", timeout=5000)
    await expect(status).to_have_class("pill st-fault flash")
    assert await page.evaluate("window.__notReloaded") is True

    st.answers["Reset"] = lambda action, payload: {"status": "Accepted"}
    reset = page.locator('form[data-command="reset"]')
    await reset.get_by_label("Type").select_option("Hard")
    await reset.get_by_role("button", name="Reset").click()
    result = page.locator("#command-result")
    await expect(result).to_contain_text("BR-1 answered")
    await expect(result).to_contain_text('"status": "Accepted"')
    assert st.received_calls[-1][2:] == ["Reset", {"type": "Hard"}]
    await shot(page, "station")

    # A session that starts while the page is open appears in its sessions table.
    await add_token(api, "TAG-LIVE")
    await st.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-LIVE", "meterStart": 0, "timestamp": _at(0)},
    )
    await expect(page.locator("#sessions")).to_contain_text("TAG-LIVE", timeout=20_000)
    assert await page.evaluate("window.__notReloaded") is True

    st.answers["UnlockConnector"] = lambda action, payload: {"status": "UnlockFailed"}
    unlock = page.locator('form[data-command="unlock"]')
    await unlock.get_by_role("button", name="Unlock").click()
    await expect(result).to_contain_text('"status": "UnlockFailed"')
    await st.close()
    await expect(page.locator("#connection")).to_have_text("disconnected", timeout=20_000)


async def test_overview_and_sessions_pages(
    joule: Joule, api: httpx.AsyncClient, page: Page
) -> None:
    st = await booted(joule, api, "BR-2", "1.6")
    await add_token(api, "TAG-BR")
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    )
    await log_in(page, joule, "/ui/")
    await expect(page.locator('[data-count="online"]')).to_have_text("1")
    await expect(page.locator("#live-state")).to_have_text("● live")
    start = await st.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-BR", "meterStart": 0, "timestamp": _at(-6)},
    )
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    )
    # The counts follow the bus too: charging and sessions today, without reload.
    await expect(page.locator('[data-count="charging"]')).to_have_text("1", timeout=20_000)
    await expect(page.locator('[data-count="sessions_today"]')).to_have_text("1")
    row = page.locator('tr[data-station="BR-2"]')
    await expect(row.locator('[data-field="state"]')).to_have_text("charging")
    await shot(page, "overview")

    tx_id = start["transactionId"]
    for minute, wh, kw in ((-5, 400, "6.5"), (-3, 900, "11.0"), (-1, 1400, "9.0")):
        await st.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [
                    {
                        "timestamp": _at(minute),
                        "sampledValue": [
                            {"value": str(wh), "measurand": "Energy.Active.Import.Register"},
                            {"value": kw, "measurand": "Power.Active.Import", "unit": "kW"},
                        ],
                    }
                ],
            },
        )
    await st.call(
        "StopTransaction",
        {"transactionId": tx_id, "meterStop": 1500, "timestamp": _at(0), "reason": "Local"},
    )
    await wait_logged(joule, "BR-2", "StopTransaction")
    await page.get_by_role("link", name="Sessions").click()
    await expect(page.locator("table.sessions")).to_contain_text("TAG-BR")
    await page.get_by_label("Status").select_option("completed")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"status=completed"))
    await shot(page, "sessions")
    await page.locator("table.sessions a").first.click()
    await expect(page.locator("svg.meter polyline.line-power")).to_be_visible()
    await expect(page.locator("table.messages")).to_contain_text("StopTransaction")
    await shot(page, "session")
    await st.close()
