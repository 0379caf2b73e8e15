"""Charging profiles and the composite schedule (pure): the limit an EVSE obeys at any instant.

Composite (energy.md §2.1, after EVerest/libocpp's smart_charging_profiles.md): per purpose, the
valid profile with the highest stackLevel that defines a limit at the instant wins; a Tx profile
overrides TxDefault; ChargePointMax / ChargingStationMax (and 2.x ExternalConstraints) cap the
result, which is never above them. Relative schedules start at the transaction's start; Recurring
ones repeat their startSchedule daily or weekly. A TxDefault on the EVSE itself is preferred over
one on EVSE 0 (station-wide). Where nothing defines a limit the EVSE's own maximum applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from joule.simulator.curves import Limit


class Purpose(StrEnum):
    """Version-neutral charging profile purposes."""

    STATION_MAX = "StationMax"  # 1.6 ChargePointMaxProfile, 2.x ChargingStationMaxProfile
    TX_DEFAULT = "TxDefault"
    TX = "Tx"
    EXTERNAL = "External"  # 2.x ChargingStationExternalConstraints


_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class Period:
    """A schedule period from `start_s` seconds after the schedule start."""

    start_s: int
    limit: Decimal | None  # 2.1 allows setpoint-only periods without a limit
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile as installed, in version-neutral terms."""

    id: int
    stack_level: int
    purpose: Purpose
    kind: str  # Absolute | Recurring | Relative
    rate_unit: str  # A | W
    periods: tuple[Period, ...]
    evse_id: int = 0  # 0 = the whole station
    start_schedule: datetime | None = None
    duration_s: int | None = None
    recurrency: str | None = None  # Daily | Weekly
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None  # Tx profiles: the transaction they belong to
    installed_at: datetime | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)  # as the CSMS sent it


@dataclass(frozen=True, slots=True)
class TxContext:
    """The transaction on an EVSE, as far as profiles care."""

    transaction_id: str
    started_at: datetime


def _schedule_start(
    profile: ChargingProfile, at: datetime, tx: TxContext | None, relative_to: datetime
) -> datetime | None:
    if profile.kind == "Relative":
        return tx.started_at if tx is not None else relative_to
    base = profile.start_schedule or profile.installed_at
    if base is None:
        return None
    if profile.kind == "Recurring":
        step = _RECURRENCE.get(profile.recurrency or "Daily", timedelta(days=1))
        return base + step * ((at - base) // step)
    return base


def profile_limit(
    profile: ChargingProfile,
    at: datetime,
    *,
    tx: TxContext | None = None,
    relative_to: datetime | None = None,
) -> Limit | None:
    """The limit this profile sets at `at`, or None where it defines none (gap or not valid)."""
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = _schedule_start(profile, at, tx, relative_to or at)
    if start is None:
        return None
    offset = (at - start).total_seconds()
    if offset < 0 or (profile.duration_s is not None and offset >= profile.duration_s):
        return None
    current: Period | None = None
    for period in profile.periods:
        if period.start_s <= offset:
            current = period
        else:
            break
    if current is None or current.limit is None:
        return None
    return Limit(current.limit, profile.rate_unit)


def _applies(profile: ChargingProfile, purpose: Purpose, evse_ids: Iterable[int]) -> bool:
    return profile.purpose is purpose and profile.evse_id in evse_ids


def _winner(
    candidates: Sequence[ChargingProfile],
    at: datetime,
    tx: TxContext | None,
    relative_to: datetime | None,
) -> Limit | None:
    """The highest stack level that defines a limit now."""
    for profile in sorted(candidates, key=lambda p: -p.stack_level):
        limit = profile_limit(profile, at, tx=tx, relative_to=relative_to)
        if limit is not None:
            return limit
    return None


def composite_limit(
    profiles: Sequence[ChargingProfile],
    at: datetime,
    *,
    evse_id: int,
    phases: int,
    tx: TxContext | None = None,
    relative_to: datetime | None = None,
) -> Limit | None:
    """The limit the EVSE obeys at `at`, in the unit of the binding profile; None = no limit."""
    tx_limit: Limit | None = None
    if tx is not None and evse_id > 0:
        mine = [
            p
            for p in profiles
            if _applies(p, Purpose.TX, (evse_id,)) and p.transaction_id == tx.transaction_id
        ]
        tx_limit = _winner(mine, at, tx, relative_to)
    if tx_limit is None:
        own = [p for p in profiles if _applies(p, Purpose.TX_DEFAULT, (evse_id,))]
        tx_limit = _winner(own, at, tx, relative_to) if evse_id > 0 else None
        if tx_limit is None:
            shared = [p for p in profiles if _applies(p, Purpose.TX_DEFAULT, (0,))]
            tx_limit = _winner(shared, at, tx, relative_to)
    caps = [
        _winner([p for p in profiles if _applies(p, Purpose.STATION_MAX, (0,))], at, tx, None),
        _winner([p for p in profiles if _applies(p, Purpose.EXTERNAL, (0, evse_id))], at, tx, None),
    ]
    binding = tx_limit
    for cap in caps:
        if cap is None:
            continue
        if binding is None or cap.as_power(phases) < binding.as_power(phases):
            binding = cap
    return binding


def convert(limit: Limit, unit: str, phases: int) -> Decimal:
    """A limit in the requested unit, rounded down to 0.1 (the schemas' multipleOf)."""
    value = limit.as_current(phases) if unit == "A" else limit.as_power(phases)
    return value.quantize(Decimal("0.1"), ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    """One period of a composite schedule."""

    start_s: int
    limit: Decimal
    phases: int


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """GetCompositeSchedule's answer: periods from `start` for `duration_s`, in one unit."""

    start: datetime
    duration_s: int
    unit: str
    periods: tuple[CompositePeriod, ...] = field(default=())


def _boundaries(
    profile: ChargingProfile,
    start: datetime,
    end: datetime,
    tx: TxContext | None,
) -> list[datetime]:
    """Every instant in [start, end) at which this profile's limit may change."""
    points = [p for p in (profile.valid_from, profile.valid_to) if p is not None]
    firsts: list[datetime] = []
    if profile.kind == "Recurring":
        step = _RECURRENCE.get(profile.recurrency or "Daily", timedelta(days=1))
        first = _schedule_start(profile, start, tx, start)
        while first is not None and first < end:
            firsts.append(first)
            first += step
    else:
        first = _schedule_start(profile, start, tx, start)
        if first is not None:
            firsts.append(first)
    for base in firsts:
        points.extend(base + timedelta(seconds=p.start_s) for p in profile.periods)
        if profile.duration_s is not None:
            points.append(base + timedelta(seconds=profile.duration_s))
    return [p for p in points if start < p < end]


def composite_schedule(
    profiles: Sequence[ChargingProfile],
    *,
    start: datetime,
    duration_s: int,
    unit: str,
    evse_id: int,
    phases: int,
    max_power_w: Decimal,
    tx: TxContext | None = None,
) -> CompositeSchedule:
    """The composite schedule of an EVSE (0 = the station) over [start, start + duration)."""
    end = start + timedelta(seconds=duration_s)
    instants = {start}
    for profile in profiles:
        instants.update(_boundaries(profile, start, end, tx))
    hardware = Limit(max_power_w, "W")
    periods: list[CompositePeriod] = []
    for at in sorted(instants):
        limit = composite_limit(
            profiles, at, evse_id=evse_id, phases=phases, tx=tx, relative_to=start
        )
        if limit is None or limit.as_power(phases) > max_power_w:
            limit = hardware
        value = convert(limit, unit, phases)
        offset = int((at - start).total_seconds())
        if periods and periods[-1].limit == value:
            continue
        if periods and periods[-1].start_s == offset:
            periods[-1] = CompositePeriod(offset, value, phases)
        else:
            periods.append(CompositePeriod(offset, value, phases))
    return CompositeSchedule(start, duration_s, unit, tuple(periods))
