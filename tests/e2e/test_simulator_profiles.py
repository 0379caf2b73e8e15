"""Load management can be seen to work: a charging profile sent through the raw API lowers the
power a simulated EV draws, and the meter values that follow show it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from joule.ocpp.versions import OcppVersion
from joule.simulator import SimulatedStation, StationSpec
from joule.simulator.model import LAYOUTS
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_charging_session import eventually
from tests.e2e.test_simulator_fleet import all_transactions

LIMIT_A = 8
FULL_W = Decimal(230 * 16 * 3)  # a sedan (16 A, three phases) on a 32 A EVSE
LIMITED_W = Decimal(230 * LIMIT_A * 3)


def tx_profile(version: OcppVersion, transaction: dict[str, Any]) -> dict[str, Any]:
    """SetChargingProfile: a TxProfile of 8 A for the running transaction on EVSE 1."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT_A}],
    }
    if version is OcppVersion.V16:
        profile: dict[str, Any] = {
            "chargingProfileId": 11,
            "transactionId": transaction["id"],
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": schedule,
        }
        return {"connectorId": 1, "csChargingProfiles": profile}
    profile = {
        "id": 11,
        "transactionId": transaction["transaction_uid"],
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, **schedule}],
    }
    return {"evseId": 1, "chargingProfile": profile}


async def power_samples(api: httpx.AsyncClient, pk: int) -> list[Decimal]:
    detail = (await api.get(f"/transactions/{pk}")).json()
    return [
        Decimal(m["value"])
        for m in detail["meter_values"]
        if m["measurand"] == "Power.Active.Import" and m["value"] is not None
    ]


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=str)
async def test_set_charging_profile_lowers_the_power_drawn(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    assert (await api.post("/tokens", json={"uid": "TAG-LM"})).status_code == 201
    spec = StationSpec(
        f"LM-{version.value}",
        version=version,
        evses=LAYOUTS["ac3x2"],
        config={"MeterValueSampleInterval": "1"},
    )
    station = SimulatedStation(spec, ocpp_url(joule), tick_s=0.2, traffic=False)
    await station.start()
    await station.wait_booted(10)
    station.plug_in(1, ev="sedan", soc=20)
    assert await station.present_token(1, "TAG-LM")

    async def sampled() -> tuple[dict[str, Any], list[Decimal]] | None:
        active = await all_transactions(api, station_id=station.station_id, status="active")
        samples = await power_samples(api, active[0]["id"]) if active else []
        return (active[0], samples) if samples else None

    # Charging at full power, seen in stored samples (waited for: a loaded box samples late).
    transaction, before = await eventually(sampled)
    assert all(watts == FULL_W for watts in before)
    assert len(await all_transactions(api, station_id=station.station_id, status="active")) == 1

    resp = await api.post(
        f"/stations/{station.station_id}/ocpp/SetChargingProfile",
        json=tx_profile(version, transaction),
    )
    assert resp.status_code == 200 and resp.json()["response"]["status"] == "Accepted", resp.text

    async def limited() -> bool:
        after = (await power_samples(api, transaction["id"]))[len(before) :]
        return len(after) >= 2 and after[-1] == LIMITED_W

    await eventually(limited)  # the samples that follow show the limit (20 s at most)

    composite = {"duration": 600, "chargingRateUnit": "A"}
    composite |= {"connectorId": 1} if version is OcppVersion.V16 else {"evseId": 1}
    resp = await api.post(
        f"/stations/{station.station_id}/ocpp/GetCompositeSchedule", json=composite
    )
    answer = resp.json()["response"]
    schedule = answer["chargingSchedule"] if version is OcppVersion.V16 else answer["schedule"]
    assert schedule["chargingSchedulePeriod"][0]["limit"] == LIMIT_A

    await station.stop()
    assert station.counters.callerrors_received == 0 and station.counters.schema_failures == 0
    (done,) = await all_transactions(api, station_id=station.station_id)
    assert Decimal(done["energy_wh_exact"]) == station.completed[0].energy_wh
    await api.aclose()
