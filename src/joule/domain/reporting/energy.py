"""Energy delivered per local calendar day, for a station, a site or the caller's network.

A session's energy is the one the transaction views show (transaction/lifecycle.energy_wh: live
while active, stop − start once completed, never negative after a meter reset). A session is
counted whole on the local calendar day it started, in its station's site time zone (UTC for a
station without a site): a session crossing midnight is attributed to its start day, not split.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, station_condition
from joule.domain.transaction.lifecycle import ACTIVE, COMPLETED, as_utc, energy_wh
from joule.kit.errors import Invalid
from joule.storage.models import Site, Station, Transaction

DEFAULT_DAYS = 30
MAX_DAYS = 400  # a trailing year plus slack, as the uptime report
# Zones run from UTC−12 to UTC+14: a local midnight is at most 14 h before the same date's UTC
# midnight, so the database filter reaches back this much further and Python cuts exactly.
_SLACK = timedelta(hours=15)


@dataclass(frozen=True, slots=True)
class DayEnergy:
    """One local calendar day: the energy of the sessions that started on it (exact Wh)."""

    day: date
    wh: Decimal
    sessions: int


@dataclass(frozen=True, slots=True)
class EnergyPerDay:
    """Every day of the window, oldest first (days without sessions included, at 0 Wh)."""

    timezone: str  # the zone naming the days ("mixed" for a network spanning several zones)
    days: list[DayEnergy]

    @property
    def total_wh(self) -> Decimal:
        """The energy of the whole window."""
        return sum((d.wh for d in self.days), Decimal(0))


@dataclass(frozen=True, slots=True)
class _Totals:
    """The columns energy_wh reads (lifecycle.MeterTotals), without loading whole rows."""

    status: str
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    last_meter_wh: Decimal | None


def zone_of(name: str | None) -> tzinfo:
    """The IANA zone of a site; UTC without a site (or for a name this host does not know)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_day(at: datetime, zone: tzinfo) -> date:
    """The calendar date of an instant in a time zone (SQLite hands back naive UTC)."""
    return as_utc(at).astimezone(zone).date()


def bucket(
    sessions: Iterable[tuple[datetime, str | None, Decimal | None]],
    *,
    last_day: date,
    days: int,
    zone_name: str,
) -> EnergyPerDay:
    """Sum (start, site zone, energy) triples into the `days` days ending at `last_day` (pure)."""
    first_day = last_day - timedelta(days=days - 1)
    wh: dict[date, Decimal] = {}
    count: dict[date, int] = {}
    for started, zone, energy in sessions:
        day = local_day(started, zone_of(zone))
        if not first_day <= day <= last_day:
            continue
        wh[day] = wh.get(day, Decimal(0)) + (energy or Decimal(0))
        count[day] = count.get(day, 0) + 1
    return EnergyPerDay(
        timezone=zone_name,
        days=[
            DayEnergy(d, wh.get(d, Decimal(0)), count.get(d, 0))
            for d in (first_day + timedelta(days=i) for i in range(days))
        ],
    )


async def _zones(session: AsyncSession, stations: list[ColumnElement[bool]]) -> list[str]:
    """The distinct zones of the sites holding the stations matched (UTC when one has none)."""
    rows = await session.execute(
        select(func.coalesce(Site.timezone, "UTC"))
        .select_from(Station)
        .outerjoin(Site, Site.id == Station.site_id)
        .where(*stations)
        .distinct()
    )
    return sorted({row[0] or "UTC" for row in rows})


async def energy_per_day(
    session: AsyncSession,
    *,
    now: datetime,
    days: int = DEFAULT_DAYS,
    station_id: str | None = None,
    site_id: str | None = None,
    scope: Scope | None = None,
) -> EnergyPerDay:
    """Energy per local day over the last `days` days (today included) of one station, one
    site, or — with neither — every station inside `scope` (the operator's network, issue 5).

    Completed and active sessions count (an active one with its energy so far). Each session
    lands on its own station's local day; the window ends on the latest local "today" among the
    zones involved, so a network spanning zones never drops a far-east site's today. The caller
    checks the station or site is visible; `scope` filters the sessions besides.
    """
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"days must be between 1 and {MAX_DAYS}")
    stations: list[ColumnElement[bool]] = []
    if station_id is not None:
        stations.append(Station.id == station_id)
    if site_id is not None:
        stations.append(Station.site_id == site_id)
    if scope is not None:
        stations.append(station_condition(scope))
    names = await _zones(session, stations) or ["UTC"]
    last_day = max(as_utc(now).astimezone(zone_of(n)).date() for n in names)
    # The window's first local midnight is at most _SLACK before the same date's UTC midnight.
    since = datetime.combine(last_day - timedelta(days=days - 1), time.min, UTC) - _SLACK
    started = func.coalesce(Transaction.started_at, Transaction.created_at)
    rows = await session.execute(
        select(
            Transaction.started_at,
            Transaction.created_at,
            Transaction.status,
            Transaction.meter_start_wh,
            Transaction.meter_stop_wh,
            Transaction.last_meter_wh,
            Site.timezone,
        )
        .join(Station, Station.id == Transaction.station_id)
        .outerjoin(Site, Site.id == Station.site_id)
        .where(
            *stations,
            Transaction.status.in_((ACTIVE, COMPLETED)),
            started >= since,
        )
    )
    triples = [
        (
            r.started_at or r.created_at,
            r.timezone,
            energy_wh(_Totals(r.status, r.meter_start_wh, r.meter_stop_wh, r.last_meter_wh)),
        )
        for r in rows
    ]
    label = names[0] if len(names) == 1 else "mixed"
    return bucket(triples, last_day=last_day, days=days, zone_name=label)
