"""Bulk actions over several real stations: bounded fan-out, per-station results, audit log."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, eventually


async def station(
    joule: Joule, api: httpx.AsyncClient, sid: str, version: str, *, site: str | None = None
) -> TestStation:
    body: dict[str, Any] = {"id": sid, "password": PASSWORD}
    if site is not None:
        body["site_id"] = site
    assert (await api.post("/stations", json=body)).status_code == 201
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "B1"})
    else:
        await st.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "B2"}},
        )
    return st


async def finished(api: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        resp = await api.get(f"/bulk/{job_id}")
        assert resp.status_code == 200, resp.text
        job: dict[str, Any] = resp.json()
        return job if job["state"] == "done" else None

    result: dict[str, Any] = await eventually(done)
    return result


async def test_bulk_reset_over_mixed_fleet(joule: Joule, api: httpx.AsyncClient) -> None:
    stations = [await station(joule, api, f"BK-{i}", "1.6") for i in range(3)]
    stations.append(await station(joule, api, "BK-201", "2.0.1"))
    stations[0].answers["Reset"] = lambda a, p: {"status": "Accepted"}
    stations[1].answers["Reset"] = lambda a, p: {"status": "Rejected"}
    stations[2].silent = True  # never answers: a timeout for this one only
    stations[3].answers["Reset"] = lambda a, p: {"status": "Scheduled"}
    # A station that once connected, now offline, and an id nobody registered.
    off = await station(joule, api, "BK-OFF", "1.6")
    await off.close()
    await eventually(lambda: _offline(api, "BK-OFF"))

    ids = ["BK-0", "BK-1", "BK-2", "BK-201", "BK-OFF", "NOPE"]
    resp = await api.post("/bulk/reset", json={"station_ids": ids, "params": {"type": "Soft"}})
    assert resp.status_code == 202, resp.text
    job = await finished(api, resp.json()["id"])
    by_id = {r["station_id"]: r for r in job["results"]}
    assert [r["station_id"] for r in job["results"]] == ids
    assert by_id["BK-0"]["outcome"] == "answered"
    assert by_id["BK-0"]["response"] == {"status": "Accepted"}
    assert by_id["BK-1"]["response"] == {"status": "Rejected"}
    assert by_id["BK-2"]["outcome"] == "timeout"
    assert by_id["BK-201"]["response"] == {"status": "Scheduled"}
    assert by_id["BK-OFF"]["outcome"] == "offline"
    assert by_id["NOPE"]["outcome"] == "not_found"
    assert job["counts"] == {"answered": 3, "timeout": 1, "offline": 1, "not_found": 1}
    # 2.0.1 got the translated type (Soft → OnIdle)
    [call] = [c for c in stations[3].received_calls if c[2] == "Reset"]
    assert call[3] == {"type": "OnIdle"}

    # Every command is in the audit log with the operator, its message id and outcome.
    for sid, outcome in (("BK-0", "answered"), ("BK-2", "timeout"), ("BK-OFF", "offline")):
        [record] = (await api.get(f"/stations/{sid}/commands")).json()["items"]
        assert record["operator"] == "admin@example.test"
        assert record["outcome"] == outcome
        assert record["action"] == "Reset"
    for st in stations:
        await st.close()


async def test_bulk_by_filter_with_bounded_concurrency(make_joule: MakeJoule) -> None:
    joule = await make_joule(bulk_concurrency=2, call_timeout_s=5.0)
    api = await api_client(joule)
    try:
        assert (await api.post("/sites", json={"id": "S-1", "name": "Depot"})).status_code == 201
        fleet = [await station(joule, api, f"FL-{i}", "1.6", site="S-1") for i in range(5)]
        other = await station(joule, api, "FL-OTHER", "1.6")
        in_flight = 0
        peak = 0

        async def slow(action: str, payload: dict[str, Any]) -> dict[str, Any]:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.2)
            in_flight -= 1
            return {"status": "Accepted"}

        for st in fleet:
            st.answers["TriggerMessage"] = slow
        resp = await api.post(
            "/bulk/trigger",
            json={"filter": {"site_id": "S-1", "online": True}, "params": {"message": "Heartbeat"}},
        )
        assert resp.status_code == 202, resp.text
        job = await finished(api, resp.json()["id"])
        assert job["total"] == 5
        assert job["counts"] == {"answered": 5}
        assert peak == 2
        assert not [c for c in other.received_calls if c[2] == "TriggerMessage"]

        # Any CSMS action, validated per station (a firmware roll-out to a model).
        resp = await api.post(
            "/bulk/UpdateFirmware",
            json={"filter": {"model": "B1", "site_id": "S-1"}, "params": {"retrieveDate": "bad"}},
        )
        job = await finished(api, resp.json()["id"])
        assert job["counts"] == {"invalid": 5}

        for bad in (
            api.post("/bulk/reset", json={"station_ids": ["FL-0"], "params": {"type": 1}}),
            api.post("/bulk/explode", json={"station_ids": ["FL-0"]}),
            api.post("/bulk/reset", json={"params": {"type": "Soft"}}),
            api.post(
                "/bulk/reset", json={"filter": {"site_id": "none"}, "params": {"type": "Soft"}}
            ),
        ):
            assert (await bad).status_code == 422
        assert (await api.get("/bulk/unknown-job")).status_code == 404
        for st in [*fleet, other]:
            await st.close()
    finally:
        await api.aclose()


async def _offline(api: httpx.AsyncClient, sid: str) -> bool:
    return not (await api.get(f"/stations/{sid}")).json()["online"]
