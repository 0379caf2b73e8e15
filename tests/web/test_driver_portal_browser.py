"""The driver portal in a real browser (Playwright + Chromium) against a real Joule: a driver logs
in, sees a session, blocks a lost card, and a connected station is then refused that card.

Skipped with the reason where no Chromium is installed (tests/web/browser.py).
"""

from __future__ import annotations

import httpx

from joule.runtime import Joule
from tests.api.test_driver_me import DRIVER_PASSWORD, add_driver
from tests.e2e.test_commands import booted
from tests.web.browser import Page, expect, page, shot
from tests.web.conftest import base_url

__all__ = ["page"]  # the Playwright page fixture of tests/web/browser.py


async def test_a_driver_blocks_a_lost_card_and_the_station_refuses_it(
    joule: Joule, api: httpx.AsyncClient, page: Page
) -> None:
    assert joule.committer is not None
    await add_driver(joule.committer, "nia@example.test", ["NIA-CARD", "NIA-APP"])
    st = await booted(joule, api, "DPB-1", "1.6")
    start = await st.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "NIA-CARD",
            "meterStart": 0,
            "timestamp": "2026-11-28T08:00:00Z",
        },
    )
    await st.call(
        "StopTransaction",
        {
            "transactionId": start["transactionId"],
            "meterStop": 12345,
            "timestamp": "2026-11-28T09:00:00Z",
        },
    )

    await page.goto(base_url(joule) + "/driver")
    await page.get_by_label("E-mail").fill("nia@example.test")
    await page.get_by_label("Password").fill("wrong-password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    await shot(page, "driver-login")
    await page.get_by_label("E-mail").fill("nia@example.test")
    await page.get_by_label("Password").fill(DRIVER_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Hello, nia")).to_be_visible()
    card = page.locator('tr[data-token="NIA-CARD"]')
    await expect(card.locator('[data-field="status"]')).to_have_text("Accepted")
    await expect(page.locator("table.sessions")).to_contain_text("12.345 kWh")
    await shot(page, "driver-home")

    await page.get_by_role("button", name="Block NIA-CARD").click()
    await expect(page.locator("#notice")).to_have_text("Card NIA-CARD is blocked.")
    await expect(card.locator('[data-field="status"]')).to_have_text("Blocked")
    await expect(page.get_by_role("button", name="Block NIA-CARD")).to_have_count(0)
    await expect(page.get_by_role("button", name="Block NIA-APP")).to_be_visible()
    await shot(page, "driver-blocked")

    refused = await st.call("Authorize", {"idTag": "NIA-CARD"})
    assert refused["idTagInfo"]["status"] == "Blocked"
    still = await st.call("Authorize", {"idTag": "NIA-APP"})
    assert still["idTagInfo"]["status"] == "Accepted"

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await st.close()
