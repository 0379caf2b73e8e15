"""What the pages show, read through the domain: fleet counts, a station's panels, a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, station_or_site_condition
from joule.domain.alerting.service import OPEN, list_alerts
from joule.domain.command.service import commands_of
from joule.domain.registry import sites, stations, transactions
from joule.domain.registry.stations import StationView
from joule.domain.registry.transactions import TransactionDetail, TransactionView
from joule.domain.reporting import energy, network, station_panels, uptime
from joule.storage.models import (
    Alert,
    BootRecord,
    CommandRecord,
    DeviceVariable,
    MessageLogEntry,
    SecurityEvent,
    StationReport,
    StatusInterval,
)
from joule.web.fleet_map import MapPoint
from joule.web.fmt import utc

PAGE = 500  # the domain's largest page; fleet-wide counts walk the list in pages of this size
CHARGING = frozenset({"Charging"})  # 1.6 connector status; 2.x says Occupied + a transaction
FAULTED = "Faulted"
MESSAGE_ROWS = 100
TRAIL_SCAN = 1000  # the per-station message log is bounded (Settings.message_log_limit)


@dataclass(frozen=True, slots=True)
class FleetCounts:
    """The overview's headline numbers."""

    stations: int = 0
    online: int = 0
    offline: int = 0
    charging: int = 0
    faulted: int = 0
    sessions_today: int = 0
    energy_today_wh: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts and every station with its connectors."""

    counts: FleetCounts
    stations: list[StationView]


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: "today" on the overview is the UTC day."""
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


def station_state(view: StationView, charging_ids: set[str]) -> str:
    """One word for a station: offline, faulted, charging or online (worst first)."""
    if not view.station.online:
        return "offline"
    if view.station.status == FAULTED or any(c.status == FAULTED for c in view.connectors):
        return "faulted"
    if view.station.id in charging_ids or any(c.status in CHARGING for c in view.connectors):
        return "charging"
    return "online"


async def _all_stations(session: AsyncSession, scope: Scope) -> list[StationView]:
    found: list[StationView] = []
    while True:
        page, total = await stations.list_stations(
            session, limit=PAGE, offset=len(found), scope=scope
        )
        found.extend(page)
        if not page or len(found) >= total:
            return found


async def visible_places(
    session: AsyncSession, scope: Scope
) -> tuple[frozenset[str], frozenset[str]]:
    """The ids of the stations and sites the operator sees (for the live stream's filter)."""
    found: list[str] = []
    offset = 0
    while True:
        page, total = await sites.list_sites(session, limit=PAGE, offset=offset, scope=scope)
        found.extend(site.id for site in page)
        offset += len(page)
        if not page or offset >= total:
            break
    fleet = await _all_stations(session, scope)
    return frozenset(v.station.id for v in fleet), frozenset(found)


async def _transactions_since(
    session: AsyncSession, *, since: datetime | None, status: str | None, scope: Scope
) -> list[TransactionView]:
    found: list[TransactionView] = []
    while True:
        page, total = await transactions.list_transactions(
            session, since=since, status=status, limit=PAGE, offset=len(found), scope=scope
        )
        found.extend(page)
        if not page or len(found) >= total:
            return found


async def active_station_ids(session: AsyncSession, scope: Scope) -> set[str]:
    """Stations of the scope with an active transaction (2.x reports charging through
    TransactionEvent)."""
    active = await _transactions_since(session, since=None, status="active", scope=scope)
    return {v.transaction.station_id for v in active}


async def overview(
    session: AsyncSession, *, now: datetime, scope: Scope
) -> tuple[Overview, set[str]]:
    """The fleet the operator sees (docs/roles.md: its subtree and granted sites), its counts,
    and the ids of its stations charging now."""
    views = await _all_stations(session, scope)
    charging_ids = await active_station_ids(session, scope)
    today = await _transactions_since(session, since=start_of_day(now), status=None, scope=scope)
    states = [station_state(v, charging_ids) for v in views]
    counts = FleetCounts(
        stations=len(views),
        online=sum(1 for v in views if v.station.online),
        offline=sum(1 for v in views if not v.station.online),
        charging=states.count("charging"),
        faulted=states.count("faulted"),
        sessions_today=len(today),
        energy_today_wh=sum((v.energy_wh or Decimal(0) for v in today), Decimal(0)),
    )
    return Overview(counts=counts, stations=views), charging_ids


@dataclass(frozen=True, slots=True)
class NetworkFigures:
    """Power now, open alerts and network uptime (reporting.md §3) for the overview."""

    power_w: Decimal
    open_alerts: int
    uptime_day: Decimal | None = None
    uptime_month: Decimal | None = None
    # site id → (uptime last 24 h, last 30 d), port-time weighted over the site's stations
    sites: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    energy_days: energy.EnergyPerDay | None = None  # the network's last 30 local days (issue 4)


def alert_condition(scope: Scope) -> ColumnElement[bool] | None:
    """The alerts the operator sees: its stations' and sites' (fleet-wide ones: root only)."""
    if scope.is_root:
        return None
    return station_or_site_condition(scope, Alert.station_id, Alert.site_id)


async def live_figures(session: AsyncSession, scope: Scope) -> tuple[Decimal, int]:
    """Σ power of the scope's active transactions (W) and its open (unacknowledged) alerts."""
    power = await network.power_now(session, scope=None if scope.is_root else scope)
    _, open_alerts = await list_alerts(
        session,
        state=OPEN,
        station_id=None,
        site_id=None,
        rule=None,
        limit=1,
        offset=0,
        visible=alert_condition(scope),
    )
    return power, open_alerts


async def network_figures(
    session: AsyncSession, *, now: datetime, fleet: list[StationView], scope: Scope
) -> NetworkFigures:
    """The overview's figures, uptime over the last 24 h and 30 days, network and per site
    (the network being the stations the operator sees: `fleet`, already scoped)."""
    power, alerts = await live_figures(session, scope)
    ids = None if scope.is_root else [v.station.id for v in fleet]
    day = await uptime.station_uptimes(
        session, since=now - timedelta(days=1), until=now, station_ids=ids
    )
    month = await uptime.station_uptimes(
        session, since=now - timedelta(days=30), until=now, station_ids=ids
    )
    by_site: dict[str, list[str]] = {}
    for view in fleet:
        if view.station.site_id:
            by_site.setdefault(view.station.site_id, []).append(view.station.id)

    def of(found: dict[str, uptime.StationUptime], ids: list[str]) -> Decimal | None:
        return uptime.network(found[i] for i in ids if i in found).rounded()

    return NetworkFigures(
        power_w=power,
        open_alerts=alerts,
        uptime_day=uptime.network(day.values()).rounded(),
        uptime_month=uptime.network(month.values()).rounded(),
        sites={site: (of(day, ids), of(month, ids)) for site, ids in sorted(by_site.items())},
        energy_days=await energy.energy_per_day(
            session, now=now, scope=None if scope.is_root else scope
        ),
    )


async def map_points(
    session: AsyncSession, fleet: list[StationView], states: dict[str, str], scope: Scope
) -> list[MapPoint]:
    """Stations placed at their site's coordinates (sites without coordinates are left out)."""
    found: list[MapPoint] = []
    placed: dict[str, tuple[str, float, float]] = {}
    offset = 0
    while True:
        page, total = await sites.list_sites(session, limit=PAGE, offset=offset, scope=scope)
        for site in page:
            if site.latitude is not None and site.longitude is not None:
                placed[site.id] = (site.name, float(site.latitude), float(site.longitude))
        offset += len(page)
        if not page or offset >= total:
            break
    for view in fleet:
        st = view.station
        spot = placed.get(st.site_id or "")
        if st.latitude is not None and st.longitude is not None:
            # A station's own coordinates beat its site's (a motorway site spans kilometres).
            spot = (spot[0] if spot else st.site_id or "", float(st.latitude), float(st.longitude))
        if spot is not None:
            name, lat, lon = spot
            found.append(MapPoint(view.station.id, name, lat, lon, states[view.station.id]))
    return found


@dataclass(frozen=True, slots=True)
class StationPage:
    """Everything the station page shows."""

    view: StationView
    boots: list[BootRecord]
    sessions: list[TransactionView]
    history: list[StatusInterval]
    messages: list[MessageLogEntry]
    messages_total: int
    security_events: list[SecurityEvent]
    commands: list[CommandRecord]
    history_since: datetime
    charging: bool = False
    notes: list[str] = field(default_factory=list)


def matches(entry: MessageLogEntry, query: str) -> bool:
    """Whether a message log row contains the search text (action, message id or frame)."""
    needle = query.casefold()
    return any(
        needle in (text or "").casefold() for text in (entry.action, entry.message_id, entry.frame)
    )


async def station_page(
    session: AsyncSession, station_id: str, *, now: datetime, query: str | None
) -> StationPage:
    """The station's panels; NotFound when unknown."""
    view = await stations.get_station(session, station_id)
    boots, _ = await stations.station_boots(session, station_id, limit=5, offset=0)
    recent, _ = await transactions.list_transactions(
        session, station_id=station_id, limit=10, offset=0
    )
    since = now - timedelta(hours=24)
    history, _ = await stations.station_status_history(
        session,
        station_id,
        evse_id=None,
        connector_id=None,
        since=since,
        until=None,
        limit=PAGE,
        offset=0,
    )
    if query:
        scanned, _ = await stations.station_messages(
            session, station_id, action=None, limit=TRAIL_SCAN, offset=0
        )
        hits = [m for m in scanned if matches(m, query)]
        messages, total = hits[:MESSAGE_ROWS], len(hits)
    else:
        messages, total = await stations.station_messages(
            session, station_id, action=None, limit=MESSAGE_ROWS, offset=0
        )
    events, _ = await stations.station_security_events(
        session, station_id, critical=None, limit=20, offset=0
    )
    commands, _ = await commands_of(session, station_id, action=None, limit=10, offset=0)
    return StationPage(
        view=view,
        boots=boots,
        sessions=recent,
        history=history,
        messages=messages,
        messages_total=total,
        security_events=events,
        commands=commands,
        history_since=since,
        charging=any(v.transaction.status == "active" for v in recent),
    )


CHART_HOURS = 2  # the live chart's window


@dataclass(frozen=True, slots=True)
class StationExtras:
    """The station page's uptime, live chart samples, maintenance history and device model."""

    uptime_day: uptime.StationUptime
    uptime_month: uptime.StationUptime
    samples: list[network.Sample]
    maintenance: list[StationReport]
    variables: list[DeviceVariable]
    energy_days: energy.EnergyPerDay | None = None  # the last 30 local days (issue 4)


async def station_extras(session: AsyncSession, station_id: str, *, now: datetime) -> StationExtras:
    """What the station page shows besides its core panels."""

    async def up(days: int) -> uptime.StationUptime:
        found = await uptime.station_uptimes(
            session, since=now - timedelta(days=days), until=now, station_ids=[station_id]
        )
        return found.get(station_id, uptime.StationUptime(station_id))

    return StationExtras(
        uptime_day=await up(1),
        uptime_month=await up(30),
        samples=await network.station_samples(
            session, station_id, since=now - timedelta(hours=CHART_HOURS)
        ),
        maintenance=await station_panels.maintenance_history(session, station_id),
        variables=await station_panels.device_variables(session, station_id),
        energy_days=await energy.energy_per_day(session, now=now, station_id=station_id),
    )


@dataclass(frozen=True, slots=True)
class SessionPage:
    """One transaction, its meter values and the station's OCPP trail in its time window."""

    detail: TransactionDetail
    trail: list[MessageLogEntry]


async def session_page(
    session: AsyncSession, pk: int, *, now: datetime, scope: Scope
) -> SessionPage:
    """The session detail; NotFound when unknown or another organisation's (issue 5)."""
    detail = await transactions.get_transaction(session, pk, scope=scope)
    tx = detail.view.transaction
    # Station times may be skewed or replayed from an offline queue, so the window spans both the
    # station's start/stop and Joule's own receive times (created_at, updated_at); the slack
    # catches the Authorize before and the last answer after.
    starts = [utc(tx.created_at)] + ([utc(tx.started_at)] if tx.started_at else [])
    ends = [utc(tx.updated_at), utc(tx.stopped_at) if tx.stopped_at else now]
    if tx.status == "active":
        ends.append(now)
    lo, hi = min(starts) - timedelta(seconds=30), max(ends) + timedelta(seconds=30)
    scanned, _ = await stations.station_messages(
        session, tx.station_id, action=None, limit=TRAIL_SCAN, offset=0
    )
    trail = sorted((m for m in scanned if lo <= utc(m.at) <= hi), key=lambda m: (utc(m.at), m.id))
    return SessionPage(detail=detail, trail=trail)
