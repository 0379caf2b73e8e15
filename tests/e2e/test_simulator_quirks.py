"""Stations with the real-charger quirks of ocpp-robustness.md §3, from the shipped profiles,
against a real Joule: every quirky message is taken (no CALLERROR, so no retry storm)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from joule.ocpp.versions import OcppVersion
from joule.simulator import SimulatedStation, StationSpec, builtin_profiles
from joule.simulator.model import LAYOUTS
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_simulator_fleet import all_transactions

QUIRKY = [name for name in sorted(builtin_profiles()) if name != "default"]


async def test_every_quirk_profile_is_tolerated(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    assert (await api.post("/tokens", json={"uid": "TAG-Q", "max_concurrent": 50})).is_success
    stations = []
    for name in QUIRKY:
        profile = builtin_profiles()[name]
        station_id = f"Q-{name}"
        body: dict[str, object] = {"id": station_id, "timezone": profile.timezone}
        if profile.ocpp is not None and "no_subprotocol" in profile.quirks:
            body["assume_subprotocol"] = profile.ocpp.subprotocol  # Q1: per-station opt-in
        assert (await api.post("/stations", json=body)).status_code == 201
        spec = StationSpec(
            station_id,
            version=profile.ocpp or OcppVersion.V201,
            evses=LAYOUTS[profile.layout or "ac3"],
            profile=profile,
            config={"MeterValueSampleInterval": "1"},
        )
        stations.append(SimulatedStation(spec, ocpp_url(joule), tick_s=0.2, traffic=False))
    for st in stations:
        await st.start()
    await asyncio.gather(*(st.wait_booted(15) for st in stations))
    for st in stations:
        st.plug_in(1)
        assert await st.present_token(1, "TAG-Q"), st.station_id
    await asyncio.sleep(2.2)
    for st in stations:
        st.fault(1, "OverCurrentFailure", "breaker")
        st.clear_fault(1)
        st.unplug(1)
    for st in stations:
        await st.stop()
        assert st.counters.callerrors_received == 0, (st.station_id, st.counters.callerror_codes)
        assert st.counters.schema_failures == 0 and st.counters.invalid_sent == 0
        assert st.counters.sessions_completed == 1, st.station_id

    stored = {t["station_id"]: t for t in await all_transactions(api)}
    now = datetime.now(UTC)
    for st in stations:
        item = stored[st.station_id]
        assert item["status"] == "completed"
        started = datetime.fromisoformat(item["started_at"])
        # Local time without an offset is read in the station's zone (Q7): the real instant;
        # the 1970 clock (Q8) was set by the boot before the session began.
        assert now - timedelta(seconds=60) < started <= now, (st.station_id, started)
        if "kwh_as_wh" not in st.quirks:
            assert int(item["energy_wh"]) == st.completed[0].energy_wh, st.station_id
    await api.aclose()
