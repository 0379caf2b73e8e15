"""Composite schedules: stack levels, Tx over TxDefault, station maximum caps, gaps, recurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from joule.simulator.charging import ProfileRejected, ProfileStore, from_v2x, from_v16
from joule.simulator.curves import Limit
from joule.simulator.schedule import (
    ChargingProfile,
    CompositePeriod,
    Period,
    Purpose,
    TxContext,
    composite_limit,
    composite_schedule,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def profile(
    pid: int,
    purpose: Purpose,
    periods: list[tuple[int, int]],
    *,
    stack: int = 0,
    unit: str = "A",
    evse: int = 0,
    kind: str = "Absolute",
    start: datetime | None = T0,
    **kw: object,
) -> ChargingProfile:
    return ChargingProfile(
        id=pid,
        stack_level=stack,
        purpose=purpose,
        kind=kind,
        rate_unit=unit,
        periods=tuple(Period(s, Decimal(limit)) for s, limit in periods),
        evse_id=evse,
        start_schedule=start,
        **kw,  # type: ignore[arg-type]
    )


def test_highest_stack_level_wins_and_falls_back_in_its_gaps() -> None:
    low = profile(1, Purpose.TX_DEFAULT, [(0, 32)], stack=0)
    high = profile(2, Purpose.TX_DEFAULT, [(0, 10)], stack=1, duration_s=600)
    profiles = [low, high]
    assert composite_limit(profiles, T0, evse_id=1, phases=3) == Limit(Decimal(10), "A")
    after = T0 + timedelta(minutes=11)  # the higher profile's schedule has ended
    assert composite_limit(profiles, after, evse_id=1, phases=3) == Limit(Decimal(32), "A")


def test_tx_profile_overrides_tx_default_and_station_max_caps() -> None:
    tx = TxContext("tx-1", T0)
    default = profile(1, Purpose.TX_DEFAULT, [(0, 32)])
    mine = profile(2, Purpose.TX, [(0, 20)], evse=1, transaction_id="tx-1")
    other = profile(3, Purpose.TX, [(0, 6)], evse=1, transaction_id="tx-0")
    cap = profile(4, Purpose.STATION_MAX, [(0, 9200)], unit="W")  # 13.3 A on three phases
    assert composite_limit([default, mine, other], T0, evse_id=1, phases=3, tx=tx) == Limit(
        Decimal(20), "A"
    )
    capped = composite_limit([default, mine, cap], T0, evse_id=1, phases=3, tx=tx)
    assert capped == Limit(Decimal(9200), "W")
    assert composite_limit([cap], T0, evse_id=1, phases=3) == Limit(Decimal(9200), "W")


def test_evse_tx_default_is_preferred_over_the_station_wide_one() -> None:
    shared = profile(1, Purpose.TX_DEFAULT, [(0, 32)], stack=5)
    own = profile(2, Purpose.TX_DEFAULT, [(0, 16)], evse=2)
    assert composite_limit([shared, own], T0, evse_id=2, phases=3) == Limit(Decimal(16), "A")
    assert composite_limit([shared, own], T0, evse_id=1, phases=3) == Limit(Decimal(32), "A")


def test_relative_schedule_starts_with_the_transaction() -> None:
    # energy.md §2.3: plug-in at 19:50 under a Relative TxDefault [32 A from 0 s, 6 A from 3600 s]
    # valid 12:00–20:00 → 10 minutes at 32 A, then no profile applies.
    valid_from = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    valid_to = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    relative = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 32), (3600, 6)],
        kind="Relative",
        start=None,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    plug = datetime(2026, 5, 1, 19, 50, tzinfo=UTC)
    tx = TxContext("tx", plug)
    assert composite_limit([relative], plug, evse_id=1, phases=3, tx=tx) == Limit(Decimal(32), "A")
    later = plug + timedelta(minutes=11)
    assert composite_limit([relative], later, evse_id=1, phases=3, tx=tx) is None


def test_daily_recurring_profile_repeats() -> None:
    night = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 8), (8 * 3600, 32)],  # 8 A from 22:00, 32 A from 06:00
        kind="Recurring",
        recurrency="Daily",
        start=datetime(2026, 1, 1, 22, 0, tzinfo=UTC),
        duration_s=86_400,
    )
    assert composite_limit(
        [night], datetime(2026, 5, 3, 23, 0, tzinfo=UTC), evse_id=1, phases=1
    ) == (Limit(Decimal(8), "A"))
    noon = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)
    assert composite_limit([night], noon, evse_id=1, phases=1) == Limit(Decimal(32), "A")


def test_composite_schedule_periods_in_the_requested_unit() -> None:
    tx_default = profile(1, Purpose.TX_DEFAULT, [(0, 16), (1800, 10)])
    schedule = composite_schedule(
        [tx_default],
        start=T0 + timedelta(minutes=10),
        duration_s=3600,
        unit="W",
        evse_id=1,
        phases=3,
        max_power_w=Decimal(22_080),
    )
    assert schedule.periods == (
        CompositePeriod(0, Decimal(11_040), 3),
        CompositePeriod(1200, Decimal(6900), 3),
    )
    nothing = composite_schedule(
        [], start=T0, duration_s=60, unit="A", evse_id=1, phases=3, max_power_w=Decimal(22_080)
    )
    assert nothing.periods == (CompositePeriod(0, Decimal(32), 3),)  # the hardware maximum


def test_store_install_rules_and_replacement() -> None:
    store = ProfileStore()
    running = {1: "tx-9"}

    def active(evse: int) -> str | None:
        return running.get(evse)

    tx = profile(5, Purpose.TX, [(0, 10)], evse=2)
    with pytest.raises(ProfileRejected):
        store.install(tx, evse_count=2, active_transaction=active)  # no transaction on EVSE 2
    installed = store.install(
        profile(5, Purpose.TX, [(0, 10)], evse=1), evse_count=2, active_transaction=active
    )
    assert installed.transaction_id == "tx-9"
    with pytest.raises(ProfileRejected):
        store.install(
            profile(6, Purpose.STATION_MAX, [(0, 10)], evse=1),
            evse_count=2,
            active_transaction=active,
        )
    store.install(
        profile(7, Purpose.TX_DEFAULT, [(0, 20)], stack=1), evse_count=2, active_transaction=active
    )
    store.install(
        profile(8, Purpose.TX_DEFAULT, [(0, 25)], stack=1), evse_count=2, active_transaction=active
    )
    assert sorted(p.id for p in store.profiles) == [5, 8]  # same purpose + stack level replaced
    store.end_transaction("tx-9")
    assert [p.id for p in store.profiles] == [8]
    assert store.clear(purpose=Purpose.TX_DEFAULT) == 1 and store.profiles == ()


def test_reading_profiles_from_both_versions() -> None:
    v16 = from_v16(
        {
            "chargingProfileId": 3,
            "stackLevel": 2,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2026-05-01T12:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
            },
        },
        connector_id=1,
        at=T0,
    )
    assert v16.purpose is Purpose.TX_DEFAULT and v16.periods[0].limit == Decimal("7400.0")
    v2x = from_v2x(
        {
            "id": 4,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                }
            ],
        },
        evse_id=0,
        at=T0,
    )
    assert v2x.purpose is Purpose.STATION_MAX and v2x.kind == "Relative"
    with pytest.raises(ProfileRejected):
        from_v2x(
            {
                "id": 4,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 60, "limit": 16}],
                    }
                ],
            },
            evse_id=0,
            at=T0,
        )
