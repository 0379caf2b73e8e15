"""Timing and traffic rules: reconnect back-off, retry intervals, arrivals, drivers, fleet plans."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from joule.ocpp.versions import OcppVersion
from joule.simulator.arrivals import PATTERNS, SessionPattern, next_arrival_s
from joule.simulator.backoff import reconnect_delay_s, transaction_retry_delay_s
from joule.simulator.driver import PRESENT, STOP_BY_TOKEN, UNPLUG, Driver
from joule.simulator.effects import Ev
from joule.simulator.evse import Evse
from joule.simulator.fleet import FleetPlan
from joule.simulator.meter import Meter
from joule.simulator.model import Counters, IdToken, ac_evse
from joule.simulator.runner import combine
from tests.simulator.conftest import T0


def test_reconnect_back_off_doubles_up_to_the_repeat_limit() -> None:
    rng = random.Random(1)
    delays = [
        reconnect_delay_s(n, wait_minimum_s=10, random_range_s=0, repeat_times=3, rng=rng)
        for n in range(6)
    ]
    assert delays == [10, 20, 40, 80, 80, 80]  # P4 §5.3
    jittered = reconnect_delay_s(0, wait_minimum_s=10, random_range_s=5, repeat_times=3, rng=rng)
    assert 10 <= jittered <= 15
    assert [transaction_retry_delay_s(n, interval_s=10) for n in (1, 2, 3)] == [10, 20, 30]


def test_arrivals_follow_the_rate_and_none_without_one() -> None:
    rng = random.Random(3)
    pattern = PATTERNS["realistic"]  # 0.5 an hour per EVSE
    mean = sum(next_arrival_s(rng, pattern) for _ in range(2000)) / 2000
    assert 6000 < mean < 8500  # 7 200 s expected
    quiet = SessionPattern(arrivals_per_hour=0.0, warm_start_share=1.0)
    assert next_arrival_s(rng, quiet, first=True) == float("inf")


def test_a_driver_arrives_presents_leaves_and_unplugs() -> None:
    evse = Evse(ac_evse(1, phases=3, current_a=32), Meter())
    evse.advance(T0)
    pattern = PATTERNS["fast"]
    driver = Driver(random.Random(5), pattern, [IdToken("T")], app_available=False)
    driver.schedule(T0, first=True)
    now = T0 + timedelta(seconds=6)
    assert driver.next_action(evse, now, accepting=True) == "arrive"
    visit = driver.arrive(now)
    evse.plug_in(Ev(visit.ev, visit.soc_start, visit.soc_target), now)
    assert driver.next_action(evse, now, accepting=True) is None  # walks to the reader first
    now += timedelta(seconds=visit.present_after_s)
    assert driver.next_action(evse, now, accepting=True) == PRESENT
    evse.begin(now, token=visit.token, transaction_id="tx", trigger="Authorized")
    now += timedelta(seconds=visit.dwell_s)
    expected = STOP_BY_TOKEN if visit.stop_by == "token" else UNPLUG
    assert driver.next_action(evse, now, accepting=True) == expected
    if expected == STOP_BY_TOKEN:
        evse.end(now, reason="Local", trigger="StopAuthorized", token=visit.token)
        now += timedelta(seconds=visit.unplug_after_s)
        assert driver.next_action(evse, now, accepting=True) == UNPLUG
    evse.unplug(now)
    assert driver.next_action(evse, now, accepting=True) is None
    assert driver.visit is None and driver.next_arrival_at is not None


def test_a_fleet_plan_mixes_versions_and_slices_for_processes() -> None:
    plan = FleetPlan(stations=10, prefix="P", seed=1)
    specs = plan.specs()
    assert [s.station_id for s in specs[:2]] == ["P-00001", "P-00002"]
    versions = [s.version for s in specs]
    assert versions.count(OcppVersion.V16) == 4 and versions.count(OcppVersion.V21) == 2
    tail = plan.slice(7, 4).specs()
    assert [s.station_id for s in tail] == ["P-00007", "P-00008", "P-00009", "P-00010"]
    assert [s.version for s in tail] == versions[6:]  # the same station wherever it runs


def test_process_snapshots_add_up() -> None:
    one = Counters(booted=1, sessions_completed=2, energy_wh=Decimal("1.5"))
    two = Counters(booted=1, callerrors_received=1, callerror_codes={"InternalError": 1})
    snaps = [
        {**one.to_dict(), "stations": 1, "online": 1, "active": 0, "elapsed": 3.0},
        {**two.to_dict(), "stations": 1, "online": 0, "active": 1, "elapsed": 4.0},
    ]
    total = combine(snaps)
    assert total["booted"] == 2 and total["stations"] == 2 and total["active"] == 1
    assert total["energy_wh"] == "1.5" and total["callerror_codes"] == {"InternalError": 1}
    assert total["elapsed"] == 4.0
