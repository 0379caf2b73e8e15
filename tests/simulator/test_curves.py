"""Charge curves and the meter: AC constant current, DC taper, exact monotone registers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from joule.simulator.curves import Limit, ac_draw, dc_taper, draw, soc_after
from joule.simulator.meter import REGISTER, Meter
from joule.simulator.model import EV_MODELS, ac_evse, dc_evse

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_ac_current_is_the_least_of_ev_evse_and_limit() -> None:
    evse = ac_evse(1, phases=3, current_a=32)
    sedan = EV_MODELS["sedan"]  # 16 A on three phases
    assert ac_draw(sedan, evse, None, wants=True).currents_a == (Decimal(16),) * 3
    assert ac_draw(sedan, evse, None, wants=True).power_w == Decimal(230 * 16 * 3)
    limited = ac_draw(sedan, evse, Limit(Decimal(10), "A"), wants=True)
    assert limited.currents_a == (Decimal(10),) * 3 and limited.power_w == Decimal(6900)
    # 4 140 W on three phases is 6 A per phase (energy.md §2.1 worked numbers)
    watts = ac_draw(sedan, evse, Limit(Decimal(4140), "W"), wants=True)
    assert watts.currents_a == (Decimal(6),) * 3


def test_ac_below_six_amps_offers_nothing() -> None:
    evse = ac_evse(1, phases=3, current_a=32)
    result = ac_draw(EV_MODELS["sedan"], evse, Limit(Decimal(5), "A"), wants=True)
    assert result.power_w == 0 and result.offered_w == 0 and not result.flowing


def test_single_phase_ev_on_three_phase_evse_uses_one_phase() -> None:
    evse = ac_evse(1, phases=3, current_a=32)
    city = EV_MODELS["city"]  # 32 A, one phase
    result = ac_draw(city, evse, None, wants=True)
    assert result.currents_a == (Decimal(32),) and result.power_w == Decimal(7360)


def test_dc_tapers_by_state_of_charge() -> None:
    curve = EV_MODELS["sedan"].dc_curve
    assert dc_taper(curve, Decimal(30)) == 1
    assert dc_taper(curve, Decimal(65)) == Decimal("0.725")  # halfway between 1 and 0.45
    evse = dc_evse(1, power_kw=150)
    sedan = EV_MODELS["sedan"]
    low = draw(sedan, evse, None, soc=Decimal(30), target_soc=Decimal(90))
    high = draw(sedan, evse, None, soc=Decimal(85), target_soc=Decimal(90))
    assert low.power_w == Decimal(150_000)  # the EVSE caps the EV's 170 kW
    assert 0 < high.power_w < low.power_w
    capped = draw(sedan, evse, Limit(Decimal(40_000), "W"), soc=Decimal(30), target_soc=Decimal(90))
    assert capped.power_w == Decimal(40_000)


def test_the_ev_stops_at_its_target() -> None:
    evse = dc_evse(1, power_kw=50)
    done = draw(EV_MODELS["city"], evse, None, soc=Decimal(80), target_soc=Decimal(80))
    assert done.power_w == 0
    assert soc_after(EV_MODELS["city"], Decimal(99), Decimal(10_000)) == 100


def test_meter_register_is_exact_and_reported_in_whole_wh() -> None:
    meter = Meter(Decimal("1000.9"))
    meter.draw = ac_draw(EV_MODELS["sedan"], ac_evse(1, phases=3, current_a=16), None, wants=True)
    added = meter.advance(Decimal(60))  # 11 040 W for one minute = 184 Wh
    assert added == Decimal(184)
    assert meter.register_wh == Decimal("1184.9") and meter.reported_wh() == 1184
    reading = meter.reading(T0 + timedelta(minutes=1), "Sample.Periodic")
    assert reading.register_wh() == 1184
    currents = [s for s in reading.samples if s.measurand == "Current.Import"]
    assert [s.phase for s in currents] == ["L1", "L2", "L3"]
    assert all(s.context == "Sample.Periodic" for s in reading.samples)
    assert not [s for s in reading.samples if s.measurand == "SoC"]  # AC: the EV tells no SoC


def test_meter_never_runs_backwards() -> None:
    meter = Meter(Decimal(500))
    assert meter.advance(Decimal(-5)) == 0 and meter.advance(Decimal(10)) == 0
    assert meter.reading(T0, "Trigger", (REGISTER,)).register_wh() == 500
