"""The operator console in a real browser against a real Joule and simulated stations (issue 4):
a bulk action with progress and per-station results, acknowledging a real alert, editing a
configuration key in place, and the live power chart growing without reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from joule.domain.registry import sites
from joule.runtime import Joule
from joule.simulator import Fleet, FleetPlan, SessionPattern
from joule.storage.uow import UnitOfWork
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_commands import booted
from tests.web.browser import Page, expect, log_in, page, shot
from tests.web.conftest import base_url

__all__ = ["page"]  # the fixture

QUIET = SessionPattern(arrivals_per_hour=0.0)  # no EV turns up by itself: deterministic pages


@pytest.fixture
async def open_joule(make_joule: MakeJoule) -> Joule:
    """Joule accepting unknown stations (the simulated fleet registers itself by connecting)."""
    return await make_joule(unknown_stations="accept", call_timeout_s=5.0)


@pytest.fixture
async def fleet(open_joule: Joule) -> AsyncIterator[Fleet]:
    """Three quiet simulated stations (1.6, 2.0.1, 1.6), booted."""
    plan = FleetPlan(stations=3, ocpp="mix", prefix="WEB", pattern=QUIET, seed=3)
    stations = Fleet.from_plan(ocpp_url(open_joule), plan)
    await stations.start()
    await stations.wait_booted(timeout=15)
    yield stations
    await stations.stop(end_sessions=False, drain_s=1.0)


@pytest.fixture
async def open_api(open_joule: Joule) -> AsyncIterator[httpx.AsyncClient]:
    client = await api_client(open_joule)
    yield client
    await client.aclose()


async def on_map(joule: Joule) -> None:
    """Put the stations on a site with coordinates, as `joule serve --demo` does."""
    assert joule.committer is not None

    async def work(uow: UnitOfWork) -> None:
        site = await sites.create_site(
            uow.session, site_id="harbour", name="Harbour", timezone="UTC", at=datetime.now(UTC)
        )
        site.latitude, site.longitude = 52.3791, 4.8997

    await joule.committer.run(work)


async def test_bulk_action_over_simulated_stations(
    open_joule: Joule, open_api: httpx.AsyncClient, fleet: Fleet, page: Page
) -> None:
    ids = [s.station_id for s in fleet]
    await on_map(open_joule)
    for sid in ids:
        resp = await open_api.patch(f"/stations/{sid}", json={"site_id": "harbour"})
        assert resp.status_code == 200, resp.text
    await log_in(page, open_joule, "/ui/")
    await expect(page.locator("#live-state")).to_have_text("● live")
    await expect(page.locator("svg.fleet-map circle.marker")).to_have_count(3)
    for sid in ids:
        await page.get_by_label(f"tick {sid}").check()
    bulk = page.locator("#bulk")
    await bulk.locator('select[name="command"]').select_option("trigger")
    await bulk.locator('select[name="message"]').select_option("Heartbeat")
    await bulk.get_by_role("button", name="Run").click()
    await expect(page.locator("#bulk-count")).to_have_text("trigger: 3 of 3 done ✓")
    await expect(page.locator("#bulk-bar")).to_have_attribute("value", "3")
    for sid in ids:
        row = page.locator(f'#bulk-results tr[data-bulk-station="{sid}"]')
        await expect(row).to_contain_text("answered")
        await expect(row).to_contain_text('{"status":"Accepted"}')
    await shot(page, "bulk")

    # A second run on the whole site: the selection by filter works the same way.
    await page.get_by_label("tick every station").uncheck()
    await bulk.locator('select[name="site_id"]').select_option("harbour")
    await bulk.locator('select[name="command"]').select_option("reset")
    await bulk.get_by_role("button", name="Run").click()
    await expect(page.locator("#bulk-count")).to_have_text("reset: 3 of 3 done ✓", timeout=20_000)


async def test_a_real_alert_is_acknowledged(open_joule: Joule, fleet: Fleet, page: Page) -> None:
    station = fleet["WEB-00001"]
    await log_in(page, open_joule, "/ui/alerts?state=")
    await expect(page.locator("#live-state")).to_have_text("● live")
    await page.evaluate("window.__notReloaded = true")
    station.fault(1, "GroundFailure")
    # The evaluator raises connector_faulted; AlertChanged reaches the open page over SSE.
    row = page.locator("table.alerts tbody tr").filter(has_text="GroundFailure")
    # An event brings the evaluation forward, but after a slow one (a loaded CI box) it rests up
    # to 9× that evaluation's time, capped at the 15 s period (evaluator.rest_after): wait past it.
    await expect(row).to_have_count(1, timeout=20_000)
    await expect(row.locator('[data-field="state"]')).to_have_text("open")
    await expect(page.locator("#alerts-total")).to_have_text("1")
    await row.get_by_role("button", name="Acknowledge").click()
    await expect(row.locator('[data-field="state"]')).to_have_text("acknowledged")
    await expect(row).to_contain_text("admin@example.test")
    await expect(page.locator("#alerts-note")).to_contain_text("acknowledged")
    assert await page.evaluate("window.__notReloaded") is True
    await shot(page, "alerts")

    station.clear_fault(1)  # the condition clears: the alert resolves by itself, live
    await expect(row.locator('[data-field="state"]')).to_have_text("resolved", timeout=20_000)


async def test_configuration_edited_in_place(open_joule: Joule, fleet: Fleet, page: Page) -> None:
    sid = "WEB-00001"  # 1.6: configuration keys
    await log_in(page, open_joule, f"/ui/stations/{sid}")
    await page.get_by_role("button", name="Read from station").click()
    await expect(page.locator("#config-state")).to_contain_text("read from the station")
    row = page.locator('#config-table tr[data-key="HeartbeatInterval"]')
    value = row.get_by_label("value of HeartbeatInterval")
    await expect(value).to_have_value("300")
    await value.fill("60")
    await row.get_by_role("button", name="Save").click()
    answer = row.locator('[data-field="answer"]')
    await expect(answer).to_have_text("Accepted")
    await expect(value).to_have_value("60")  # read back from the station
    assert fleet[sid].chargepoint.config.by_v16_key("HeartbeatInterval").value == "60"

    await value.fill("soon")
    await row.get_by_role("button", name="Save").click()
    await expect(answer).to_have_text("Rejected")
    await expect(value).to_have_value("60")  # the station kept its value; the row says so
    readonly = page.locator('#config-table tr[data-key="NumberOfConnectors"]')
    await expect(readonly.locator("form")).to_have_count(0)
    await shot(page, "configuration")

    # 2.0.1: device-model variables through GetVariables / SetVariables, the same table.
    await page.goto(f"{base_url(open_joule)}/ui/stations/WEB-00002")
    await page.get_by_role("button", name="Read from station").click()
    key = "OCPPCommCtrlr.HeartbeatInterval"
    row = page.locator(f'#config-table tr[data-key="{key}"]')
    await row.get_by_label(f"value of {key}").fill("120")
    await row.get_by_role("button", name="Save").click()
    await expect(row.locator('[data-field="answer"]')).to_have_text("Accepted")
    await expect(row.get_by_label(f"value of {key}")).to_have_value("120")


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_live_power_chart_grows_without_reload(
    joule: Joule, api: httpx.AsyncClient, page: Page
) -> None:
    st = await booted(joule, api, "PWR-1", "1.6")
    await log_in(page, joule, "/ui/stations/PWR-1")
    await expect(page.locator("#live-state")).to_have_text("● live")
    await page.evaluate("window.__notReloaded = true")
    chart = page.locator("#live-chart")
    await expect(chart).to_have_attribute("data-samples", "0")
    for minute, kw, wh in ((-2, "3.7", 100), (-1, "7.4", 220), (0, "11.0", 400)):
        await st.call(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [
                    {
                        "timestamp": _at(minute),
                        "sampledValue": [
                            {"value": kw, "measurand": "Power.Active.Import", "unit": "kW"},
                            {"value": str(wh), "measurand": "Energy.Active.Import.Register"},
                        ],
                    }
                ],
            },
        )
    await expect(chart).to_have_attribute("data-samples", "6", timeout=20_000)
    power = chart.locator('polyline[data-line="power-1"]')
    points = await power.get_attribute("points")
    assert points is not None and len(points.split()) == 3
    await expect(chart.locator('[data-legend="power"]')).to_have_text("power 11 kW")
    await expect(page.locator("#chart-samples")).to_have_text("6 samples")
    assert await page.evaluate("window.__notReloaded") is True
    await shot(page, "power")
    await st.close()
