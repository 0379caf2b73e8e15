"""GET /stations/{id}/uptime: the status history written by the real handlers, over the API."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import NOW, add_station, seen_connected, station_says

V16 = OcppVersion.V16


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_uptime_of_a_station_over_a_period(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-UP")
    await seen_connected(committer, "CS-UP", V16, online=True)
    day = NOW - timedelta(hours=24)
    for hours, status, error in ((0, "Available", "NoError"), (12, "Faulted", "GroundFailure")):
        at = day + timedelta(hours=hours)
        payload = {"connectorId": 1, "errorCode": error, "status": status, "timestamp": iso(at)}
        await station_says(committer, "CS-UP", V16, "StatusNotification", payload, at=at)
    at = day + timedelta(hours=18)
    payload = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": iso(at),
    }
    await station_says(committer, "CS-UP", V16, "StatusNotification", payload, at=at)

    resp = await viewer.get("/stations/CS-UP/uptime", params={"from": iso(day), "to": iso(NOW)})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["station_id"] == "CS-UP"
    assert body["from"] == iso(day) and body["to"] == iso(NOW)
    assert body["uptime_percent"] == "75.00"  # 6 of 24 hours Faulted
    assert body["outage_s"] == "21600" and body["period_s"] == "86400"
    assert [(p["evse_id"], p["uptime_percent"]) for p in body["ports"]] == [(1, "75.00")]

    # Default period: the 30 days up to now; the port counts from its first status only.
    default = (await viewer.get("/stations/CS-UP/uptime")).json()
    assert default["uptime_percent"] == "75.00"


async def test_uptime_refuses_bad_periods_and_unknown_stations(
    operator: httpx.AsyncClient,
) -> None:
    await add_station(operator, "CS-UP2")
    never = (await operator.get("/stations/CS-UP2/uptime")).json()
    assert never["uptime_percent"] is None and never["ports"] == []
    backwards = await operator.get(
        "/stations/CS-UP2/uptime", params={"from": iso(NOW), "to": iso(NOW - timedelta(days=1))}
    )
    assert backwards.status_code == 422 and "before" in backwards.text
    naive = await operator.get("/stations/CS-UP2/uptime", params={"from": "2026-11-01T00:00:00"})
    assert naive.status_code == 422
    too_long = await operator.get(
        "/stations/CS-UP2/uptime", params={"from": iso(NOW - timedelta(days=500))}
    )
    assert too_long.status_code == 422
    assert (await operator.get("/stations/NOPE/uptime")).status_code == 404
