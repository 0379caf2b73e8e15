"""Issue 5's browser test: in Chromium, an admin makes two sites private, creates a driver with
a token, a group with the driver and a time-window rule (day, 08:00-18:00) per site; stations of
those sites (1.6 and 2.0.1, real WebSockets) then refuse the token outside the window (Invalid /
NotAtThisTime, also in the station page's message log) and accept it inside. Remote starts, judged
with Joule's injected clock, are refused once the test moves that clock out of the window.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from joule.config import Settings
from joule.kit.clock import FixedClock
from joule.runtime import Joule
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD
from tests.web.browser import Page, expect, log_in, page, shot, wait_logged
from tests.web.conftest import base_url

__all__ = ["page"]  # the Playwright page fixture of tests/web/browser.py

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Zone:
    """A fixed-offset IANA zone and the local weekday there now."""

    name: str
    day: str


def zone_where_it_is(hour: int, now: datetime) -> Zone:
    """A zone whose local time is now `hour`:MM (Etc/GMT-N is UTC+N, POSIX's inverted sign)."""
    offset = hour - now.hour
    if offset < -12:
        offset += 24
    elif offset > 14:
        offset -= 24
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    local = now.astimezone(ZoneInfo(name))
    assert local.hour == hour, (name, local)
    return Zone(name, DAY_NAMES[local.weekday()])


@pytest.fixture
async def clocked(database_url: str) -> AsyncIterator[tuple[Joule, FixedClock]]:
    """A Joule whose clock the test moves (started at the real time, like the gateway's)."""
    clock = FixedClock(datetime.now(UTC))
    settings = Settings(
        host="127.0.0.1",
        http_port=0,
        ocpp_port=0,
        database_url=database_url,
        unknown_stations="reject",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        jwt_secret="test-secret-test-secret-test-secret",
        jwt_ttl_s=30 * 24 * 3600,  # the clock jumps up to a week ahead
        call_timeout_s=3.0,
    )
    joule = Joule(settings, clock=clock)
    await joule.start()
    try:
        yield joule, clock
    finally:
        await joule.stop()


async def connect(joule: Joule, sid: str, version: str) -> TestStation:
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        boot = {"chargePointVendor": "Acme", "chargePointModel": "M"}
    else:
        boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "M"}}
    assert (await st.call("BootNotification", boot))["status"] == "Accepted"
    return st


async def authorize(st: TestStation, uid: str) -> str:
    if st.version is not None and st.version.value == "1.6":
        answer = await st.call("Authorize", {"idTag": uid})
        return str(answer["idTagInfo"]["status"])
    answer = await st.call("Authorize", {"idToken": {"idToken": uid, "type": "ISO14443"}})
    return str(answer["idTokenInfo"]["status"])


async def test_a_time_window_rule_made_in_the_dashboard_is_enforced_at_the_station(
    clocked: tuple[Joule, FixedClock], page: Page
) -> None:
    joule, clock = clocked
    # The gateway stamps a station's frames with the machine's clock, so for Authorize the test
    # picks where it is noon and where it is past midnight instead of moving time: two private
    # sites, the same 08:00-18:00 rule for each, read in each site's own time zone.
    now = datetime.now(UTC)
    west, east = zone_where_it_is(12, now), zone_where_it_is(0, now)
    api = await api_client(joule)
    try:
        for site, zone in (("WEST", west), ("EAST", east)):
            body = {"id": site, "name": f"{site.title()} office", "timezone": zone.name}
            assert (await api.post("/sites", json=body)).status_code == 201
            for version in ("16", "201"):
                station = {"id": f"{site}-{version}", "password": PASSWORD, "site_id": site}
                assert (await api.post("/stations", json=station)).status_code == 201
        stations = {
            sid: await connect(joule, sid, "1.6" if sid.endswith("16") else "2.0.1")
            for sid in ("WEST-16", "WEST-201", "EAST-16", "EAST-201")
        }

        # 1. Both sites become private.
        await log_in(page, joule, "/ui/access/places")
        for site in ("WEST", "EAST"):
            mode = page.get_by_label(f"Access mode of site {site}", exact=True)
            await mode.select_option("private")
            await page.get_by_role("button", name=f"Save access mode of site {site}").click()
            await expect(
                page.get_by_label(f"Access mode of site {site}", exact=True)
            ).to_have_value("private")
        await shot(page, "access-places")

        # 2. A driver with a card.
        await page.goto(base_url(joule) + "/ui/access/drivers")
        await page.get_by_label("Name", exact=True).fill("Uma")
        await page.get_by_label("E-mail").fill("uma@example.test")
        await page.get_by_label("Token uid").fill("UMA-CARD")
        await page.get_by_label("Token type").select_option("ISO14443")
        await page.get_by_label("Token status").select_option("Accepted")
        await page.get_by_role("button", name="Create driver").click()
        await expect(page.locator('[data-token="UMA-CARD"]')).to_contain_text("Accepted")
        await shot(page, "access-drivers")

        # Private and no group yet: refused everywhere, at any hour.
        assert await authorize(stations["WEST-201"], "UMA-CARD") == "NotAtThisLocation"
        assert await authorize(stations["WEST-16"], "UMA-CARD") == "Invalid"

        # 3. A group with Uma, and for each site a rule: today (there), 08:00-18:00 local.
        await page.get_by_role("link", name="Access", exact=True).click()
        await expect(page).to_have_url(base_url(joule) + "/ui/access/groups")
        await page.get_by_label("Group name", exact=True).fill("Employees")
        await page.get_by_label("Kind").select_option("employees")
        await page.get_by_label("Group id (optional)", exact=True).fill("staff")
        await page.get_by_role("button", name="Create group").click()
        group = page.locator('section[data-group="staff"]')
        await expect(group).to_contain_text("Employees")
        await group.locator('select[name="driver_id"]').select_option(
            label="Uma (uma@example.test)"
        )
        await group.get_by_role("button", name="Add member").click()
        await expect(group.locator("ul.members")).to_contain_text("Uma")
        for site, zone in (("WEST", west), ("EAST", east)):
            form = group.locator("form", has=page.get_by_role("button", name="Add rule"))
            await form.locator('select[name="site_id"]').select_option(site)
            await form.get_by_label(zone.day, exact=True).check()
            await form.get_by_label("From", exact=True).fill("08:00")
            await form.get_by_label("To", exact=True).fill("18:00")
            await form.get_by_role("button", name="Add rule").click()
            row = group.locator("table.rules tbody tr", has_text=site)
            await expect(row).to_contain_text(zone.day)
            await expect(row).to_contain_text("08:00")
        await expect(group.locator("table.rules tbody tr")).to_have_count(2)
        await shot(page, "access-groups")

        # 4. Past midnight at EAST: outside the window, refused; noon at WEST: accepted.
        assert await authorize(stations["EAST-201"], "UMA-CARD") == "NotAtThisTime"
        assert await authorize(stations["EAST-16"], "UMA-CARD") == "Invalid"  # 1.6: no such status
        assert await authorize(stations["WEST-201"], "UMA-CARD") == "Accepted"
        assert await authorize(stations["WEST-16"], "UMA-CARD") == "Accepted"
        assert await authorize(stations["WEST-16"], "NOT-A-CARD") == "Invalid"

        # 5. Remote starts are judged with Joule's own clock, which the test moves: ten hours on
        # it is 22:00 at WEST, a day on it is another weekday; both refused, now is accepted.
        st = stations["WEST-201"]
        st.answers["RequestStartTransaction"] = lambda action, payload: {"status": "Accepted"}
        start = {"uid": "UMA-CARD", "evse_id": 1}
        for moved in (timedelta(hours=10), timedelta(days=1)):
            clock.set(now + moved)
            refused = await api.post("/stations/WEST-201/start", json=start)
            assert refused.status_code == 409, refused.text
            assert "outside the access rules' hours" in refused.json()["detail"]
        clock.set(now)
        sent = await api.post("/stations/WEST-201/start", json=start)
        assert sent.status_code == 200, sent.text
        assert st.received_calls[-1][2] == "RequestStartTransaction"
        assert st.received_calls[-1][3]["idToken"]["idToken"] == "UMA-CARD"
    finally:
        await api.aclose()

    # The station page's message log shows the refusal.
    await wait_logged(joule, "EAST-201", "NotAtThisTime")
    await page.goto(base_url(joule) + "/ui/stations/EAST-201")
    messages = page.locator("table.messages")
    await expect(messages).to_contain_text("NotAtThisTime")
    await shot(page, "access-station-log")
    for station in stations.values():
        await station.close()
