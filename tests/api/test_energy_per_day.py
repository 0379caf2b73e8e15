"""GET /stations/{id}/energy-per-day and /reports/energy-per-day: sessions through the real
dispatcher, days in the site's zone, and the caller's scope (issue 5: another org's → 404)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import NOW, Login, station_says
from tests.api.orgs import World, build_world, ok


async def stop(committer: GroupCommitter, station_id: str, tx: int, meter_stop: int) -> None:
    """A 1.6 StopTransaction through the real dispatcher."""
    payload = {"transactionId": tx, "meterStop": meter_stop, "timestamp": "2026-11-28T08:30:00Z"}
    await station_says(committer, station_id, OcppVersion.V16, "StopTransaction", payload, at=NOW)


@pytest.fixture
async def world(admin: httpx.AsyncClient, login: Login, committer: GroupCommitter) -> World:
    """Two organisations, one finished session each (started 08:00Z: 3200 Wh at A, 5000 at B)."""
    found = await build_world(admin, login, committer)
    await stop(committer, "CP-A", found.tx_a, 3200)
    await stop(committer, "CP-B", found.tx_b, 5000)
    return found


async def test_the_network_and_a_site_per_day(world: World) -> None:
    network = await ok(await world.root.get("/reports/energy-per-day", params={"days": 3}), 200)
    assert network["timezone"] == "UTC" and network["total_wh_exact"] == "8200"
    assert [(d["day"], d["energy_wh_exact"], d["sessions"]) for d in network["days"]] == [
        ("2026-11-26", "0", 0),
        ("2026-11-27", "0", 0),
        ("2026-11-28", "8200", 2),
    ]
    default = await ok(await world.root.get("/reports/energy-per-day"), 200)
    assert len(default["days"]) == 30 and default["days"][-1]["day"] == "2026-11-28"

    # In Honolulu (UTC−10) 08:00Z is still 27 Nov, and so is "now" (09:00Z).
    await ok(await world.root.patch("/sites/site-a", json={"timezone": "Pacific/Honolulu"}), 200)
    site = await ok(
        await world.admin_a.get("/reports/energy-per-day", params={"site_id": "site-a", "days": 2}),
        200,
    )
    assert site["site_id"] == "site-a" and site["timezone"] == "Pacific/Honolulu"
    assert [(d["day"], d["energy_wh_exact"]) for d in site["days"]] == [
        ("2026-11-26", "0"),
        ("2026-11-27", "3200"),
    ]


async def test_a_station_per_day_and_the_scope(world: World) -> None:
    mine = await ok(
        await world.viewer_a.get("/stations/CP-A/energy-per-day", params={"days": 1}), 200
    )
    assert mine["station_id"] == "CP-A"
    assert mine["days"] == [
        {"day": "2026-11-28", "energy_wh": 3200, "energy_wh_exact": "3200", "sessions": 1}
    ]

    # Another organisation's station and site are absent, and their energy is not in the network.
    other = await world.admin_a.get("/stations/CP-B/energy-per-day")
    assert other.status_code == 404 and "CP-B" in other.json()["detail"]
    site_b = await world.admin_a.get("/reports/energy-per-day", params={"site_id": "site-b"})
    assert site_b.status_code == 404
    network_a = await ok(await world.admin_a.get("/reports/energy-per-day"), 200)
    assert network_a["total_wh"] == 3200
    network_b = await ok(await world.admin_b.get("/reports/energy-per-day"), 200)
    assert network_b["total_wh"] == 5000
    unknown = await world.root.get("/stations/NOPE/energy-per-day")
    assert unknown.status_code == 404


@pytest.mark.parametrize("days", ["0", "401", "-3", "many"])
async def test_days_outside_1_to_400_are_422(world: World, days: str) -> None:
    for path in ("/stations/CP-A/energy-per-day", "/reports/energy-per-day"):
        resp = await world.root.get(path, params={"days": days})
        assert resp.status_code == 422, resp.text
        assert "days" in resp.text


async def test_a_session_still_charging_counts_its_energy_so_far(
    world: World, committer: GroupCommitter
) -> None:
    answer = await station_says(
        committer,
        "CP-A",
        OcppVersion.V16,
        "StartTransaction",
        {
            "connectorId": 2,
            "idTag": "ROOT-A",
            "meterStart": 1000,
            "timestamp": "2026-11-28T08:40:00Z",
        },
        at=NOW,
    )
    meter = {
        "connectorId": 2,
        "transactionId": answer["transactionId"],
        "meterValue": [
            {
                "timestamp": "2026-11-28T08:55:00Z",
                "sampledValue": [{"value": "1750", "measurand": "Energy.Active.Import.Register"}],
            }
        ],
    }
    await station_says(
        committer, "CP-A", OcppVersion.V16, "MeterValues", meter, at=NOW + timedelta(seconds=1)
    )
    body = await ok(await world.admin_a.get("/stations/CP-A/energy-per-day?days=1"), 200)
    assert body["days"] == [
        {"day": "2026-11-28", "energy_wh": 3950, "energy_wh_exact": "3950", "sessions": 2}
    ]
