"""The EVSE state machine: statuses, transactions, meter energy, limits, faults, reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from joule.simulator.curves import Limit
from joule.simulator.effects import (
    Ev,
    Reservation,
    ReservationEnded,
    Status,
    StatusChanged,
    TxEnded,
    TxSampled,
    TxStarted,
    TxStateChanged,
)
from joule.simulator.evse import Evse, EvseBusy
from joule.simulator.meter import Meter
from joule.simulator.model import EV_MODELS, IdToken, ac_evse, dc_evse

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
TAG = IdToken("TAG-1")


def ac() -> Evse:
    evse = Evse(ac_evse(1, phases=3, current_a=32), Meter(Decimal(10_000)), sample_interval_s=60)
    evse.advance(T0)
    return evse


def statuses(effects: list[object]) -> list[Status]:
    return [e.status for e in effects if isinstance(e, StatusChanged)]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_session_from_plug_to_unplug() -> None:
    evse = ac()
    assert statuses(evse.take_effects()) == [Status.AVAILABLE]
    evse.plug_in(Ev(EV_MODELS["sedan"], Decimal(20), Decimal(80)), at(1))
    assert statuses(evse.take_effects()) == [Status.PREPARING]

    session = evse.begin(at(5), token=TAG, transaction_id="tx-1", trigger="Authorized")
    effects = evse.take_effects()
    started = [e for e in effects if isinstance(e, TxStarted)]
    assert started and started[0].charging_state == "EVConnected"
    assert started[0].reading.register_wh() == 10_000 == session.meter_start_wh
    assert [e.charging_state for e in effects if isinstance(e, TxStateChanged)] == ["Charging"]
    assert statuses(effects) == [Status.CHARGING]

    evse.advance(at(65))  # one minute at 16 A × 3 × 230 V = 11 040 W → 184 Wh
    sampled = [e for e in evse.take_effects() if isinstance(e, TxSampled)]
    assert len(sampled) == 1 and sampled[0].reading.register_wh() == 10_184

    evse.end(at(125), reason="Local", trigger="StopAuthorized", token=TAG)
    effects = evse.take_effects()
    ended = next(e for e in effects if isinstance(e, TxEnded))
    assert ended.reading.register_wh() == session.meter_stop_wh == 10_368
    assert ended.charging_state == "EVConnected" and ended.token == TAG
    assert statuses(effects) == [Status.FINISHING]
    evse.unplug(at(130))
    assert statuses(evse.take_effects()) == [Status.AVAILABLE]
    assert evse.meter.reported_wh() == 10_368  # nothing flows without a transaction


def test_unplugging_ends_the_transaction() -> None:
    evse = ac()
    evse.plug_in(Ev(EV_MODELS["city"], Decimal(50), Decimal(90)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    evse.take_effects()
    evse.unplug(at(30))
    ended = [e for e in evse.take_effects() if isinstance(e, TxEnded)]
    assert ended[0].reason == "EVDisconnected" and ended[0].trigger == "EVCommunicationLost"
    assert ended[0].charging_state == "Idle"


def test_full_ev_suspends_and_low_limit_suspends_the_evse() -> None:
    evse = ac()
    evse.plug_in(Ev(EV_MODELS["city"], Decimal("79.99"), Decimal(80)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    evse.take_effects()
    evse.advance(at(60))
    evse.advance(at(61))
    assert evse.status is Status.SUSPENDED_EV
    other = ac()
    other.plug_in(Ev(EV_MODELS["sedan"], Decimal(10), Decimal(90)), at(0))
    other.limit = Limit(Decimal(4), "A")
    other.begin(at(0), token=TAG, transaction_id="tx2", trigger="Authorized")
    assert other.status is Status.SUSPENDED_EVSE and other.meter.draw.power_w == 0
    other.set_limit(Limit(Decimal(10), "A"), at(10))
    assert other.status is Status.CHARGING and other.meter.draw.power_w == Decimal(6900)


def test_dc_reports_state_of_charge() -> None:
    evse = Evse(dc_evse(1, power_kw=50), Meter(Decimal(0), dc=True))
    evse.advance(T0)
    evse.plug_in(Ev(EV_MODELS["compact"], Decimal(30), Decimal(80)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    evse.advance(at(360))  # 50 kW for 6 minutes = 5 kWh into 58 kWh: +8.6 %
    reading = evse.meter.reading(at(360), "Sample.Periodic")
    soc = next(s for s in reading.samples if s.measurand == "SoC")
    assert soc.value == Decimal(38) and soc.location == "EV"
    assert reading.register_wh() == 5000


def test_fault_ends_the_transaction_and_blocks_new_ones() -> None:
    evse = ac()
    evse.plug_in(Ev(EV_MODELS["sedan"], Decimal(20), Decimal(80)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    evse.take_effects()
    evse.fault(at(10), error_code="GroundFailure", info="RCD", stop_reason="GroundFault")
    effects = evse.take_effects()
    assert [e.reason for e in effects if isinstance(e, TxEnded)] == ["GroundFault"]
    change = [e for e in effects if isinstance(e, StatusChanged)][-1]
    assert change.status is Status.FAULTED and change.error_code == "GroundFailure"
    with pytest.raises(EvseBusy):
        evse.begin(at(11), token=TAG, transaction_id="tx2", trigger="Authorized")
    evse.clear_fault(at(20))
    assert evse.status is Status.FINISHING


def test_availability_change_waits_for_the_transaction() -> None:
    evse = ac()
    evse.plug_in(Ev(EV_MODELS["sedan"], Decimal(20), Decimal(80)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    assert evse.set_operative(False, at(1)) == "Scheduled"
    assert evse.status is Status.CHARGING
    evse.unplug(at(2))
    assert evse.status is Status.UNAVAILABLE
    with pytest.raises(EvseBusy):
        evse.plug_in(Ev(EV_MODELS["sedan"], Decimal(20), Decimal(80)), at(3))
    assert evse.set_operative(True, at(4)) == "Accepted" and evse.status is Status.AVAILABLE


def test_reservations_hold_the_evse_for_their_token_until_they_expire() -> None:
    evse = ac()
    held = Reservation(7, IdToken("OWNER"), expires_at=at(60))
    assert evse.reserve(held, at(0)) == "Accepted" and evse.status is Status.RESERVED
    evse.plug_in(Ev(EV_MODELS["sedan"], Decimal(20), Decimal(80)), at(1))
    with pytest.raises(EvseBusy):
        evse.begin(at(2), token=TAG, transaction_id="tx", trigger="Authorized")
    session = evse.begin(at(3), token=IdToken("owner"), transaction_id="tx", trigger="Authorized")
    assert session.reservation_id == 7 and evse.reservation is None
    other = ac()
    other.reserve(Reservation(8, TAG, expires_at=at(60)), at(0))
    other.advance(at(61))
    ended = [e for e in other.take_effects() if isinstance(e, ReservationEnded)]
    assert ended and ended[0].reason == "Expired" and other.status is Status.AVAILABLE


def test_a_dc_ev_ends_the_transaction_at_its_target() -> None:
    evse = Evse(dc_evse(1, power_kw=50), Meter(Decimal(0), dc=True))
    evse.advance(T0)
    evse.plug_in(Ev(EV_MODELS["city"], Decimal("79.9"), Decimal(80)), at(0))
    evse.begin(at(0), token=TAG, transaction_id="tx", trigger="Authorized")
    evse.take_effects()
    evse.advance(at(30))
    evse.advance(at(31))
    ended = [e for e in evse.take_effects() if isinstance(e, TxEnded)]
    assert ended and ended[0].reason == "StoppedByEV" and evse.status is Status.FINISHING
