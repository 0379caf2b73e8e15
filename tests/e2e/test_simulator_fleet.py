"""A mixed fleet of simulated stations against a real Joule: sessions, meter values and remote
commands through the API — no CALLERROR anywhere, and every transaction's energy in the database
exactly as the stations metered it (issue 3, "Done when")."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from typing import Any

import httpx

from joule.simulator import PATTERNS, Fleet, FleetPlan, IdToken, SimulatedStation
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_charging_session import eventually

DRIVERS = [f"DRV-{n}" for n in range(8)]
# Short intervals so that twenty seconds hold many sessions, retries and reconnects.
CONFIG = {
    "MeterValueSampleInterval": "2",
    "RetryBackOffWaitMinimum": "1",
    "RetryBackOffRandomRange": "1",
    "TransactionMessageRetryInterval": "1",
    "MessageTimeout": "10",
}


async def all_transactions(api: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    """Every transaction the API lists, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        resp = await api.get("/transactions", params={**query, "limit": 500, "offset": len(found)})
        assert resp.status_code == 200, resp.text
        page = resp.json()["items"]
        found += page
        if len(page) < 500:
            return found


async def add_drivers(api: httpx.AsyncClient) -> None:
    for uid in DRIVERS:
        resp = await api.post("/tokens", json={"uid": uid, "max_concurrent": 100})
        assert resp.status_code == 201, resp.text


async def active_id(api: httpx.AsyncClient, station_id: str) -> int:
    items = await all_transactions(api, station_id=station_id, status="active")
    assert len(items) == 1, items
    return int(items[0]["id"])


async def test_mixed_fleet_sessions_commands_and_exact_energy(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="accept", call_timeout_s=10.0)
    api = await api_client(joule)
    await add_drivers(api)
    tokens = tuple(IdToken(uid) for uid in DRIVERS)
    busy = FleetPlan(
        stations=16, prefix="FLT", pattern=PATTERNS["fast"], tokens=tokens, config=CONFIG, seed=7
    )
    # Stations without their own traffic, driven only by the operator's commands.
    quiet_pattern = dataclasses.replace(
        PATTERNS["fast"], arrivals_per_hour=0.0, dwell_s=(600.0, 600.0)
    )
    quiet = dataclasses.replace(busy, stations=4, prefix="CMD", pattern=quiet_pattern)
    fleet = Fleet(ocpp_url(joule), busy.specs() + quiet.specs(), tick_s=0.25)
    commanded: list[SimulatedStation] = [s for s in fleet if s.station_id.startswith("CMD")]
    assert [s.version.value for s in commanded] == ["1.6", "2.0.1", "1.6", "2.1"]

    await fleet.start()
    await fleet.wait_booted(30)
    for station in commanded:  # RemoteStartTransaction / RequestStartTransaction
        resp = await api.post(
            f"/stations/{station.station_id}/start", json={"uid": "DRV-0", "evse_id": 1}
        )
        assert resp.status_code == 200 and resp.json()["status"] == "Accepted", resp.text

    async def all_charging() -> bool:
        return all(s.sessions() for s in commanded)

    await eventually(all_charging)
    fleet["FLT-00003"].drop_connection()  # an abrupt disconnect: back-off, reconnect, replay
    fleet["FLT-00005"].fault(1, "GroundFailure", "RCD tripped")
    await asyncio.sleep(3)  # a few meter values each
    fleet["FLT-00005"].clear_fault(1)
    soft, hard, stop_16, stop_21 = commanded
    for station in (stop_16, stop_21):
        tx = await active_id(api, station.station_id)
        resp = await api.post(f"/stations/{station.station_id}/stop", json={"transaction_id": tx})
        assert resp.status_code == 200 and resp.json()["status"] == "Accepted", resp.text
    for station, kind in ((soft, "Soft"), (hard, "Hard")):
        resp = await api.post(f"/stations/{station.station_id}/reset", json={"type": kind})
        assert resp.status_code == 200 and resp.json()["status"] == "Accepted", resp.text

    async def rebooted() -> bool:
        return (
            soft.counters.boots == 2
            and hard.counters.boots == 2
            and all(s.online for s in (soft, hard))
        )

    await eventually(rebooted)
    await asyncio.sleep(3)  # the busy stations keep charging and coming and going
    await fleet.stop()

    counters = fleet.counters()
    assert counters.callerrors_received == 0, counters.callerror_codes
    assert counters.schema_failures == 0  # every frame Joule sent matched the schemas
    assert counters.invalid_sent == 0 and counters.transaction_messages_discarded == 0
    assert counters.booted == 20 and counters.sessions_completed >= 20
    assert counters.reconnects >= 3 and counters.faults == 1  # the drop and the two resets
    assert counters.sessions_started == counters.sessions_completed

    # Every completed transaction is in the database with exactly the metered energy.
    stored = {}
    for item in await all_transactions(api):
        assert item["status"] == "completed", item
        assert not item["incomplete"], item  # 2.x: every seqNo arrived (E §1.3.2)
        # 1.6: the station knows Joule's id, which Joule keeps as the uid; 2.x: the station's id.
        stored[(item["station_id"], item["transaction_uid"])] = item
    metered = {(tx.station_id, tx.transaction_id): tx for tx in fleet.completed()}
    assert set(stored) == set(metered)
    for key, tx in metered.items():
        assert Decimal(stored[key]["energy_wh_exact"]) == tx.energy_wh, key
        assert Decimal(stored[key]["meter_start_wh"]) == tx.meter_start_wh, key
    for station in (stop_16, stop_21):
        first = station.completed[0]
        assert stored[(station.station_id, first.transaction_id)]["stop_reason"] == "Remote"
    assert sum(tx.energy_wh for tx in metered.values()) == counters.energy_wh > 0
    await api.aclose()
