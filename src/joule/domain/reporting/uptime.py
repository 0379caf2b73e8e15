"""Uptime per port, station, site and network from the status history (reporting.md §3.1/3.2).

The formula is NEVI's (23 CFR 680.116(b)), over any period rather than a year:

    uptime % = (T_period − (T_outage − T_excluded)) / T_period × 100

A port is an EVSE. It is out while the station as a whole (EVSE 0) is Faulted or Unavailable,
while every connector of the EVSE is Faulted or Unavailable (one working cable still dispenses),
and while the station is not connected to Joule (CSMS connection loss). T_excluded is the part of
the outage inside excluded periods (grid outage, vandalism, scheduled maintenance). A port's
period starts at its first known status, so a station commissioned mid-period is not "down"
before it existed. Intervals are half-open [start, end) in UTC; all arithmetic is Decimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.station.intervals import utc
from joule.kit.pacing import paced
from joule.storage.models import Station, StatusInterval

OUTAGE_STATUSES = frozenset({"Faulted", "Unavailable"})
STATION_LANE = (0, 0)  # EVSE 0 / connector 0: the station as a whole
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A half-open period [start, end)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> Decimal:
        """Its length in seconds (0 when empty)."""
        delta = self.end - self.start
        exact = Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
        return max(exact, Decimal(0))


@dataclass(frozen=True, slots=True)
class StatusSpan:
    """One status interval of a connector (evse 0 / connector 0: the station); end None = open."""

    evse_id: int
    connector_id: int
    status: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Uptime:
    """Seconds in the period, out, and out but excluded; the percentage follows."""

    period_s: Decimal = Decimal(0)
    outage_s: Decimal = Decimal(0)
    excluded_s: Decimal = Decimal(0)

    @property
    def percent(self) -> Decimal | None:
        """Uptime in percent (exact Decimal); None for an empty period."""
        if self.period_s <= 0:
            return None
        return (self.period_s - (self.outage_s - self.excluded_s)) / self.period_s * HUNDRED

    def rounded(self, places: int = 2) -> Decimal | None:
        """The percentage as shown: 99.1388… → 99.14."""
        value = self.percent
        if value is None:
            return None
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    def __add__(self, other: Uptime) -> Uptime:
        return Uptime(
            self.period_s + other.period_s,
            self.outage_s + other.outage_s,
            self.excluded_s + other.excluded_s,
        )


@dataclass(frozen=True, slots=True)
class StationUptime:
    """A station's ports and their sum (the station's uptime is over port-time)."""

    station_id: str
    ports: dict[int, Uptime] = field(default_factory=dict)

    @property
    def total(self) -> Uptime:
        """All ports together."""
        return combine(self.ports.values())


def combine(parts: Iterable[Uptime]) -> Uptime:
    """Port-time weighted: a site or network is the sum of its ports' seconds."""
    total = Uptime()
    for part in parts:
        total = total + part
    return total


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping, non-empty spans covering the same time."""
    out: list[Span] = []
    for span in sorted(s for s in spans if s.end > s.start):
        if out and span.start <= out[-1].end:
            if span.end > out[-1].end:
                out[-1] = Span(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """The time in both (each argument merged)."""
    out: list[Span] = []
    left, right = merge(a), merge(b)
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i].start, right[j].start)
        end = min(left[i].end, right[j].end)
        if end > start:
            out.append(Span(start, end))
        if left[i].end < right[j].end:
            i += 1
        else:
            j += 1
    return out


def total(spans: Iterable[Span]) -> Decimal:
    """Seconds covered (overlaps counted once)."""
    return sum((s.seconds for s in merge(spans)), Decimal(0))


def uptime(period: Span, outages: Iterable[Span], excluded: Iterable[Span] = ()) -> Uptime:
    """NEVI's formula over one period: outage clipped to the period, exclusions only where out."""
    out = intersect(list(outages), [period])
    return Uptime(
        period_s=period.seconds,
        outage_s=total(out),
        excluded_s=total(intersect(out, list(excluded))),
    )


def _clipped(span: StatusSpan, period: Span) -> Span:
    end = span.end if span.end is not None else period.end
    return Span(max(span.start, period.start), min(end, period.end))


def station_uptime(
    station_id: str,
    intervals: Sequence[StatusSpan],
    *,
    period: Span,
    offline: Sequence[Span] = (),
    excluded: Sequence[Span] = (),
    first_seen: dict[int, datetime] | None = None,
) -> StationUptime:
    """Each port's uptime in `period` from the station's status intervals.

    `intervals` may hold only the outage intervals when `first_seen` gives each port's first
    status in the period (the query does that); otherwise a port starts at its first interval.
    """
    starts: dict[int, datetime] = dict(first_seen or {})
    connectors: dict[int, set[int]] = {}
    down: dict[tuple[int, int], list[Span]] = {}
    for i in intervals:
        lane = (i.evse_id, i.connector_id)
        if lane != STATION_LANE:
            connectors.setdefault(i.evse_id, set()).add(i.connector_id)
            if first_seen is None:
                begun = max(i.start, period.start)
                starts[i.evse_id] = min(starts.get(i.evse_id, begun), begun)
        if i.status in OUTAGE_STATUSES:
            down.setdefault(lane, []).append(_clipped(i, period))
    whole_station = list(down.get(STATION_LANE, [])) + list(offline)
    ports: dict[int, Uptime] = {}
    for evse_id, begun in sorted(starts.items()):
        if evse_id == 0 or begun >= period.end:
            continue
        lanes = sorted(connectors.get(evse_id, set())) or [1]
        every_connector: list[Span] = [Span(period.start, period.end)]
        for connector_id in lanes:
            every_connector = intersect(every_connector, down.get((evse_id, connector_id), []))
        ports[evse_id] = uptime(Span(begun, period.end), every_connector + whole_station, excluded)
    return StationUptime(station_id, ports)


# -- the query --------------------------------------------------------------------------------


def _overlapping(since: datetime, until: datetime) -> tuple[object, ...]:
    return (
        StatusInterval.started_at < until,
        or_(StatusInterval.ended_at.is_(None), StatusInterval.ended_at > since),
    )


async def stations_observed(
    session: AsyncSession, *, since: datetime, until: datetime, before: datetime
) -> list[str]:
    """Stations with a port whose first status in [since, until) is at or before `before`
    (a port observed for at least `until - before`), sorted."""
    query = (
        select(StatusInterval.station_id)
        .where(*_overlapping(since, until), StatusInterval.evse_id > 0)  # type: ignore[arg-type]
        .group_by(StatusInterval.station_id)
        .having(func.min(StatusInterval.started_at) <= before)
        .order_by(StatusInterval.station_id)
    )
    return list((await session.scalars(query)).all())


async def station_uptimes(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    station_ids: Sequence[str] | None = None,
    site_id: str | None = None,
    excluded: Sequence[Span] = (),
) -> dict[str, StationUptime]:
    """Every matching station's uptime over [since, until) (stations without ports are left out).

    Two narrow reads instead of the whole history: the outage intervals overlapping the period
    (few) and each port's first status in the period (one row per port). Excluded periods are
    given by the caller: Joule records no exclusion causes yet.
    """
    period = Span(utc(since), utc(until))
    scope: list[object] = []
    if station_ids is not None:
        scope.append(StatusInterval.station_id.in_(list(station_ids)))
    if site_id is not None:
        scope.append(
            StatusInterval.station_id.in_(select(Station.id).where(Station.site_id == site_id))
        )
    ports = await session.execute(
        select(
            StatusInterval.station_id,
            StatusInterval.evse_id,
            StatusInterval.connector_id,
            func.min(StatusInterval.started_at),
        )
        .where(*_overlapping(since, until), StatusInterval.evse_id > 0, *scope)  # type: ignore[arg-type]
        .group_by(StatusInterval.station_id, StatusInterval.evse_id, StatusInterval.connector_id)
    )
    first: dict[str, dict[int, datetime]] = {}
    spans: dict[str, list[StatusSpan]] = {}
    for station_id, evse_id, connector_id, started in ports.all():
        begun = max(utc(started), period.start)
        seen = first.setdefault(station_id, {})
        seen[evse_id] = min(seen.get(evse_id, begun), begun)
        # Every connector is named, so "all connectors out" knows how many there are.
        spans.setdefault(station_id, []).append(
            StatusSpan(evse_id, connector_id, "Available", begun, begun)
        )
    if not first:
        return {}
    outages = await session.scalars(
        select(StatusInterval).where(
            *_overlapping(since, until),  # type: ignore[arg-type]
            StatusInterval.status.in_(sorted(OUTAGE_STATUSES)),
            StatusInterval.station_id.in_(list(first)),
        )
    )
    for row in outages:
        spans.setdefault(row.station_id, []).append(
            StatusSpan(
                row.evse_id,
                row.connector_id,
                row.status,
                utc(row.started_at),
                utc(row.ended_at) if row.ended_at is not None else None,
            )
        )
    offline: dict[str, list[Span]] = {}
    stations = await session.execute(
        select(Station.id, Station.online, Station.last_seen).where(Station.id.in_(list(first)))
    )
    for station_id, online, last_seen in stations.all():
        if not online and last_seen is not None:
            # Not connected since its last message: the CSMS connection is lost (reporting §3.2).
            offline[station_id] = [Span(utc(last_seen), period.end)]
    result: dict[str, StationUptime] = {}
    async for sid in paced(sorted(first)):  # a network's stations: the loop gets its turns (T5)
        result[sid] = station_uptime(
            sid,
            spans.get(sid, []),
            period=period,
            offline=offline.get(sid, []),
            excluded=excluded,
            first_seen=first[sid],
        )
    return result


def network(uptimes: Iterable[StationUptime]) -> Uptime:
    """Many stations together (a site, the network)."""
    return combine(u.total for u in uptimes)
