"""A simulated station loses its network mid-session, keeps charging, and replays what it queued:
original timestamps (1.6), offline=true with every seqNo (2.0.1), no second boot, exact energy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from joule.ocpp.versions import OcppVersion
from joule.simulator import SimulatedStation, StationSpec
from joule.simulator.model import LAYOUTS
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_charging_session import eventually
from tests.e2e.test_simulator_fleet import all_transactions

CONFIG = {
    "MeterValueSampleInterval": "1",
    "RetryBackOffWaitMinimum": "1",
    "RetryBackOffRandomRange": "0",
    "RetryBackOffRepeatTimes": "1",
}


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=str)
async def test_offline_queue_is_replayed_in_order_on_reconnect(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    assert (await api.post("/tokens", json={"uid": "TAG-OFF"})).status_code == 201
    spec = StationSpec(
        f"OFF-{version.value}", version=version, evses=LAYOUTS["ac3x2"], config=CONFIG
    )
    station = SimulatedStation(spec, ocpp_url(joule), tick_s=0.2, traffic=False)
    await station.start()
    await station.wait_booted(10)

    station.plug_in(1, ev="sedan", soc=20)
    assert await station.present_token(1, "TAG-OFF")  # Authorize online: now in the cache
    await asyncio.sleep(1.5)
    station.go_offline()

    async def offline() -> bool:
        return not station.online

    await eventually(offline)
    went_offline = datetime.now(UTC)

    def queued_beyond(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return station.counters.queued > count

        return check

    # Meter values keep coming: queued (waited for, not slept for: a loaded box samples late).
    await eventually(queued_beyond(station.counters.queued + 1))
    assert await station.stop_transaction(1)  # the same token stops it, offline
    station.unplug(1)
    station.plug_in(2, ev="compact", soc=40)
    assert await station.present_token(2, "TAG-OFF")  # started offline from the cache
    await eventually(queued_beyond(station.counters.queued))  # a meter value of the second
    station.unplug(2)
    queued = station.counters.queued
    assert queued >= 6 and station.counters.sessions_completed == 0

    came_back = datetime.now(UTC)
    station.come_back()
    await station.wait_idle(20)
    counters = station.counters
    assert counters.boots == 1 and counters.reconnects >= 1  # a reconnect is no reboot
    assert counters.callerrors_received == 0 and counters.schema_failures == 0
    assert counters.transaction_messages_discarded == 0 and counters.sessions_completed == 2

    stored = {t["transaction_uid"]: t for t in await all_transactions(api)}
    for tx in station.completed:
        item = stored[tx.transaction_id]
        assert item["status"] == "completed" and not item["incomplete"]
        assert Decimal(item["energy_wh_exact"]) == tx.energy_wh > 0
        detail = (await api.get(f"/transactions/{item['id']}")).json()
        times = [datetime.fromisoformat(m["timestamp"]) for m in detail["meter_values"]]
        # Replayed with the times they were taken, not the time they arrived (C16 §3.7).
        assert any(went_offline <= t < came_back for t in times)
        if version is not OcppVersion.V16:
            assert item["offline"] is True  # E04.FR.03
    await station.stop()
    await api.aclose()
