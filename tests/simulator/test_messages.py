"""What a station sends, per version: every message valid, seqNos complete, quirks as described."""

from __future__ import annotations

from decimal import Decimal

import pytest

from joule.ocpp.versions import OcppVersion
from joule.simulator import quirks as q
from joule.simulator.model import IdToken
from joule.simulator.profiles import StationProfile, builtin_profiles
from tests.simulator.conftest import VERSIONS, check, later, offline_station


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_a_full_session_offline_is_queued_valid_and_in_order(version: OcppVersion) -> None:
    station, clock = offline_station(version, config={"MeterValueSampleInterval": "30"})
    cp = station.chargepoint
    station.plug_in(1, ev="compact", soc=20, target_soc=90)
    assert await station.present_token(1, "TAG-1")  # the local list authorizes it offline
    for _ in range(4):
        cp.tick(later(clock, 30))
    station.fault(2, "GroundFailure", "RCD tripped")
    station.clear_fault(2)
    assert await station.stop_transaction(1)
    station.unplug(1)

    waiting = station.outbox.waiting()
    for action, payload in waiting:
        check(version, action, "request", payload)
    actions = [a for a, _ in waiting]
    if version is OcppVersion.V16:
        tx = [p for a, p in waiting if a in ("StartTransaction", "MeterValues", "StopTransaction")]
        assert actions.count("MeterValues") == 4
        start, stop = tx[0], tx[-1]
        assert stop["meterStop"] - start["meterStart"] > 0 and stop["reason"] == "Local"
        assert stop["idTag"] == "TAG-1"
    else:
        events = [p for a, p in waiting if a == "TransactionEvent"]
        assert [e["seqNo"] for e in events] == list(range(len(events)))  # E §1.3.2
        assert all(e["offline"] is True for e in events)  # E04.FR.03: happened offline
        assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
        assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
        assert "NotifyEvent" in actions  # the fault, as a Problem event of the connector
    assert station.counters.invalid_sent == 0


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_boot_heartbeat_and_status_messages_are_valid(version: OcppVersion) -> None:
    station, _ = offline_station(version)
    dialect = station.dialect
    for out in (dialect.boot(station.info(), "PowerUp"), dialect.heartbeat()):
        check(version, out.action, "request", out.payload)
    for action, payload in station.outbox.waiting():  # the statuses of the first tick
        assert action == "StatusNotification"
        check(version, action, "request", payload)


def _sent(version: OcppVersion, quirks: set[str]) -> list[tuple[str, dict[str, object]]]:
    profile = StationProfile("quirky", quirks=frozenset(quirks), timezone="Europe/Berlin")
    station, clock = offline_station(version, profile=profile)
    station.plug_in(1, ev="sedan", soc=20)
    evse = station.chargepoint.evses[1]
    station.chargepoint.begin(evse, IdToken("TAG-1"), trigger="Authorized", remote_start_id=None)
    station.chargepoint.tick(later(clock, 61))
    station.fault(2, "GroundFailure")
    return [(a, station.outbox.prepare(a, p)) for a, p in station.outbox.waiting()]


def test_quirks_bend_exactly_what_the_evidence_describes() -> None:
    sent = _sent(OcppVersion.V16, {q.KWH_AS_WH, q.NUMERIC_VALUES, q.ERROR_CODE_ERROR, q.LONG_INFO})
    meter = next(p for a, p in sent if a == "MeterValues")
    register = next(
        s
        for s in meter["meterValue"][0]["sampledValue"]  # type: ignore[index]
        if s["measurand"] == "Energy.Active.Import.Register"
    )
    assert isinstance(register["value"], Decimal) and register["unit"] == "Wh"
    start = next(p for a, p in sent if a == "StartTransaction")
    assert register["value"] < Decimal(start["meterStart"]) / 999  # type: ignore[arg-type]
    faulted = [p for a, p in sent if a == "StatusNotification" and p["status"] == "Faulted"]
    assert faulted[0]["errorCode"] == "Error" and len(str(faulted[0]["info"])) > 50


def test_local_time_quirk_drops_the_offset() -> None:
    profile = StationProfile("local", quirks=frozenset({q.LOCAL_TIME}), timezone="Europe/Berlin")
    station, _ = offline_station(OcppVersion.V16, profile=profile)
    stamped = station.stamp(station.clock.now())
    assert stamped == "2026-05-01T20:00:00"  # 18:00 UTC is 20:00 in Berlin in May, no offset


def test_every_builtin_profile_loads() -> None:
    profiles = builtin_profiles()
    assert "default" in profiles and "kwh-as-wh" in profiles
    for profile in profiles.values():
        assert profile.quirks <= q.KNOWN
        assert profile.evidence or profile.name == "default"
