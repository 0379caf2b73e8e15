"""Alerts: load what the rules look at, raise / refresh / auto-resolve, acknowledge, list, rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.alerting import rules
from joule.domain.alerting.rules import (
    ConnectorState,
    Finding,
    RuleSettings,
    SecurityEventState,
    Snapshot,
    StationState,
    TransactionState,
)
from joule.domain.reporting import uptime
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.kit.pacing import BACKGROUND_EVERY_S, Pacer, paced
from joule.storage.models import Alert, AlertRule
from joule.storage.repositories import alert as repo
from joule.storage.uow import UnitOfWork

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
STATES = (OPEN, ACKNOWLEDGED, RESOLVED)


@dataclass(frozen=True, slots=True)
class AlertChanged:
    """Domain event: an alert was raised, acknowledged or resolved (published after commit)."""

    event: str  # alert.raised | alert.acknowledged | alert.resolved
    alert: dict[str, Any]
    at: datetime


def alert_view(row: Alert) -> dict[str, Any]:
    """The alert as it travels in events, webhooks and e-mails (JSON-ready)."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at is not None else None

    return {
        "id": row.id,
        "rule": row.rule,
        "target": row.target,
        "station_id": row.station_id,
        "site_id": row.site_id,
        "severity": row.severity,
        "state": row.state,
        "message": row.message,
        "details": row.details,
        "raised_at": iso(row.raised_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "resolved_at": iso(row.resolved_at),
    }


# -- rules ---------------------------------------------------------------------------------


async def rule_settings(session: AsyncSession) -> dict[str, RuleSettings]:
    """Every rule's settings: stored thresholds over the defaults."""
    stored = await repo.rule_rows(session)
    result: dict[str, RuleSettings] = {}
    for name in rules.RULES:
        row = stored.get(name)
        if row is None:
            result[name] = rules.settings_for(name)
            continue
        try:
            result[name] = rules.settings_for(name, enabled=row.enabled, params=row.params)
        except rules.InvalidRuleParams:
            # A threshold renamed by an upgrade must not stop monitoring: defaults apply.
            result[name] = rules.settings_for(name, enabled=row.enabled)
    return result


async def update_rule(
    session: AsyncSession,
    rule: str,
    *,
    enabled: bool | None,
    params: dict[str, Any] | None,
    at: datetime,
) -> RuleSettings:
    """Enable/disable a rule or change its thresholds (only the thresholds given change)."""
    if rule not in rules.RULES:
        raise NotFound(f"alert rule {rule} does not exist")
    row = await session.get(AlertRule, rule)
    if row is None:
        row = AlertRule(rule=rule, enabled=True, params={}, updated_at=at)
        session.add(row)
    if params is not None:
        try:
            checked = rules.checked_params(rule, params)
        except rules.InvalidRuleParams as error:
            raise Invalid(str(error)) from None
        row.params = {**row.params, **checked}
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = at
    return rules.settings_for(rule, enabled=row.enabled, params=row.params)


# -- evaluation ----------------------------------------------------------------------------


_UPTIME_PAGE = 500  # stations per uptime read


class UptimeMemo:
    """Uptime over days moves slowly: the evaluator recomputes it at most every `refresh_s`,
    not on every StatusNotification burst (the other inputs are cheap, this one reads history)."""

    def __init__(self, refresh_s: float = 300.0) -> None:
        self.refresh_s = refresh_s
        self._key: tuple[int, datetime] | None = None
        self._values: dict[str, Decimal | None] = {}

    async def get(
        self, session: AsyncSession, *, days: int, now: datetime
    ) -> dict[str, Decimal | None]:
        """Each station's uptime percent over the last `days` (a day of history at least)."""
        if self._key is not None:
            same_days, at = self._key
            if same_days == days and timedelta(0) <= now - at < timedelta(seconds=self.refresh_s):
                return self._values
        since = now - timedelta(days=days)
        # Only stations with a day of history can be judged: the others are not read at all,
        # and the rest is computed a page of stations at a time (T5).
        judged = await uptime.stations_observed(
            session,
            since=since,
            until=now,
            before=now - timedelta(seconds=rules.UPTIME_MIN_OBSERVED_S),
        )
        values: dict[str, Decimal | None] = {}
        for start in range(0, len(judged), _UPTIME_PAGE):
            found = await uptime.station_uptimes(
                session, since=since, until=now, station_ids=judged[start : start + _UPTIME_PAGE]
            )
            values.update(
                (sid, u.total.percent)
                for sid, u in found.items()
                if max(p.period_s for p in u.ports.values()) >= rules.UPTIME_MIN_OBSERVED_S
            )
        self._values = values
        self._key = (days, now)
        return self._values


def _enabled(settings: dict[str, RuleSettings], rule: str) -> RuleSettings | None:
    """The rule's settings when it is enabled, else None."""
    config = settings.get(rule)
    return config if config is not None and config.enabled else None


def station_conditions(
    settings: dict[str, RuleSettings], *, now: datetime, heartbeat_interval_s: int
) -> repo.StationConditions:
    """The SQL filter for stations the enabled rules could find something on.

    Each term mirrors a station rule of rules.evaluate (the rules stay the judge; this only keeps
    the thousands of stations in order out of the read): a 10 000-station network is read and
    judged in a few stations, not all of them every evaluation (T5). The uptime rule's
    stations come by name from the uptime memo instead. tests/domain/test_alert_snapshot.py
    checks that the findings over the candidates equal those over every station.
    """

    def on(rule: str) -> RuleSettings | None:
        return _enabled(settings, rule)

    offline = on(rules.STATION_OFFLINE)
    silent = on(rules.HEARTBEAT_MISSED)
    boot_loop = on(rules.BOOT_LOOP)
    return repo.StationConditions(
        offline_since=now - timedelta(minutes=offline.params["minutes"]) if offline else None,
        silent_since=(
            now - timedelta(seconds=heartbeat_interval_s * silent.params["intervals"])
            if silent
            else None
        ),
        statuses=frozenset({"Faulted"}) if on(rules.CONNECTOR_FAULTED) else frozenset(),
        firmware_statuses=rules.FIRMWARE_FAILURES if on(rules.FIRMWARE_FAILED) else frozenset(),
        diagnostics_statuses=(
            rules.DIAGNOSTICS_FAILURES if on(rules.DIAGNOSTICS_FAILED) else frozenset()
        ),
        boot_loop=(
            (now - timedelta(minutes=boot_loop.params["minutes"]), boot_loop.params["boots"])
            if boot_loop
            else None
        ),
    )


async def load_snapshot(
    session: AsyncSession,
    settings: dict[str, RuleSettings],
    *,
    now: datetime,
    heartbeat_interval_s: int,
    uptimes: UptimeMemo | None = None,
) -> Snapshot:
    """Read what the enabled rules need, and nothing for disabled ones: the stations, connectors
    and transactions they could find something on, handing the event loop back as it goes."""

    def on(rule: str) -> RuleSettings | None:
        return _enabled(settings, rule)

    pace = Pacer(BACKGROUND_EVERY_S)
    boots: dict[str, list[datetime]] = {}
    if config := on(rules.BOOT_LOOP):
        since = now - timedelta(minutes=config.params["minutes"])
        for station_id, at in await repo.boot_loop_boots(session, since, config.params["boots"]):
            boots.setdefault(station_id, []).append(_utc(at))
    below: dict[str, Decimal] = {}
    if config := on(rules.UPTIME_BELOW):
        memo = uptimes or UptimeMemo(refresh_s=0)
        measured = await memo.get(session, days=config.params["days"], now=now)
        threshold = config.params["percent"]
        below = {sid: u for sid, u in measured.items() if u is not None and u < threshold}
    stations: dict[str, StationState] = {}

    async def add(pages: AsyncIterator[Sequence[repo.StationRow]]) -> None:
        async for rows in pages:
            async for r in paced(rows, pace):
                stations[r.id] = StationState(
                    station_id=r.id,
                    site_id=r.site_id,
                    online=r.online,
                    last_seen=_utc(r.last_seen) if r.last_seen is not None else None,
                    firmware_status=r.firmware_status,
                    diagnostics_status=r.diagnostics_status,
                    status=r.status,
                    error_code=r.error_code,
                    boots=tuple(boots.get(r.id, ())),
                    uptime=below.get(r.id),
                )

    conditions = station_conditions(settings, now=now, heartbeat_interval_s=heartbeat_interval_s)
    await add(repo.candidate_stations(session, conditions))
    await add(repo.stations_named(session, below.keys() - stations.keys()))
    connectors: tuple[ConnectorState, ...] = ()
    if on(rules.CONNECTOR_FAULTED):
        connectors = tuple(
            ConnectorState(
                station_id=r.station_id,
                site_id=r.site_id,
                evse_id=r.evse_id,
                connector_id=r.connector_id,
                status=r.status,
                error_code=r.error_code,
                vendor_error_code=r.vendor_error_code,
            )
            for r in await repo.faulted_connectors(session)
        )
    await pace()
    quiet = on(rules.TRANSACTION_NO_METER_VALUES)
    long = on(rules.TRANSACTION_TOO_LONG)
    overdue = await repo.overdue_transactions(
        session,
        quiet_since=now - timedelta(minutes=quiet.params["minutes"]) if quiet else None,
        started_before=now - timedelta(hours=long.params["hours"]) if long else None,
    )
    transactions = tuple(
        TransactionState(
            transaction_pk=r.id,
            station_id=r.station_id,
            site_id=r.site_id,
            started_at=_utc(r.started_at) if r.started_at is not None else None,
            last_meter_at=_utc(r.last_meter_at) if r.last_meter_at is not None else None,
        )
        for r in overdue
    )
    await pace()
    events: tuple[SecurityEventState, ...] = ()
    if config := on(rules.SECURITY_EVENT):
        since = now - timedelta(hours=config.params["hours"])
        events = tuple(
            SecurityEventState(
                station_id=r.station_id, site_id=r.site_id, type=r.type, at=_utc(r.received_at)
            )
            for r in await repo.critical_security_events(session, since)
        )
    return Snapshot(tuple(stations.values()), connectors, transactions, events)


# Stations (or connectors, transactions) judged between two chances for the event loop.
_JUDGED_PER_SLICE = 64


async def findings_of(
    snapshot: Snapshot,
    settings: dict[str, RuleSettings],
    *,
    now: datetime,
    heartbeat_interval_s: int,
) -> list[Finding]:
    """rules.evaluate over the snapshot in slices, handing the event loop back between them.

    Every station, connector and transaction rule judges one item on its own, so slices find
    what the whole finds; security events are grouped per station and type, so they stay whole.
    """
    pace = Pacer(BACKGROUND_EVERY_S)
    found: list[Finding] = []
    step = _JUDGED_PER_SLICE
    parts = [
        *(
            Snapshot(stations=snapshot.stations[i : i + step])
            for i in range(0, len(snapshot.stations), step)
        ),
        *(
            Snapshot(connectors=snapshot.connectors[i : i + step])
            for i in range(0, len(snapshot.connectors), step)
        ),
        *(
            Snapshot(transactions=snapshot.transactions[i : i + step])
            for i in range(0, len(snapshot.transactions), step)
        ),
        Snapshot(security_events=snapshot.security_events),
    ]
    for part in parts:
        found.extend(
            rules.evaluate(part, settings, now=now, heartbeat_interval_s=heartbeat_interval_s)
        )
        await pace()
    return found


def _utc(at: datetime) -> datetime:
    # SQLite returns naive datetimes; every stored time is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


# -- reconciliation ------------------------------------------------------------------------

# An alert's last_seen_at moves at most this often while its condition holds: a regional outage
# keeps thousands of station_offline alerts open, and rewriting every one of them on every
# evaluation (every 15 s) would be the busiest write of the network for no reader's benefit.
SEEN_REFRESH = timedelta(minutes=1)
# Alert changes per unit of work: a reconciliation of thousands commits in small units, so the
# stations' units queued behind it never wait for all of it (T5, T6).
CHANGES_PER_UNIT = 50


@dataclass(frozen=True, slots=True)
class KnownAlert:
    """An unresolved alert as a reconciliation compares it."""

    alert_id: int
    message: str
    details: dict[str, Any]
    last_seen_at: datetime


@dataclass(slots=True)
class AlertPlan:
    """What a reconciliation changes: raise, re-word, refresh, resolve."""

    raised: list[Finding] = field(default_factory=list)
    reworded: list[tuple[int, Finding]] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.raised) + len(self.reworded) + len(self.refreshed) + len(self.resolved)

    def parts(self, size: int) -> list[AlertPlan]:
        """The plan in parts of at most `size` changes each (none for an empty plan)."""
        changes: list[tuple[str, Any]] = [
            *(("raised", f) for f in self.raised),
            *(("reworded", r) for r in self.reworded),
            *(("refreshed", i) for i in self.refreshed),
            *(("resolved", i) for i in self.resolved),
        ]
        parts: list[AlertPlan] = []
        for start in range(0, len(changes), size):
            part = AlertPlan()
            for kind, change in changes[start : start + size]:
                getattr(part, kind).append(change)
            parts.append(part)
        return parts


async def known_alerts(session: AsyncSession) -> dict[tuple[str, str], KnownAlert]:
    """Every unresolved alert by (rule, target)."""
    pace = Pacer(BACKGROUND_EVERY_S)
    known: dict[tuple[str, str], KnownAlert] = {}
    async for rows in repo.unresolved_alerts(session):
        async for alert_id, rule, target, message, details, seen in paced(rows, pace):
            known[(rule, target)] = KnownAlert(alert_id, message, details, _utc(seen))
    return known


async def plan_reconcile(
    known: dict[tuple[str, str], KnownAlert], findings: list[Finding], *, now: datetime
) -> AlertPlan:
    """Raise new findings, re-word or refresh known ones, resolve alerts whose condition cleared.

    One unresolved alert per (rule, target): a finding that is already open (or acknowledged)
    refreshes it rather than raising a second one.
    """
    pace = Pacer(BACKGROUND_EVERY_S)
    plan = AlertPlan()
    wanted = {f.key: f for f in findings}
    async for key, found in paced(wanted.items(), pace):
        alert = known.get(key)
        if alert is None:
            plan.raised.append(found)
        elif alert.message != found.message[:500] or alert.details != found.details:
            plan.reworded.append((alert.alert_id, found))
        elif now - alert.last_seen_at >= SEEN_REFRESH:
            plan.refreshed.append(alert.alert_id)
    async for key, alert in paced(known.items(), pace):
        if key not in wanted:
            plan.resolved.append(alert.alert_id)
    return plan


async def apply_plan(uow: UnitOfWork, plan: AlertPlan, *, now: datetime) -> list[AlertChanged]:
    """Write a plan (or a part of one); the raised and resolved alerts are emitted as events.

    The plan was made from a read: an alert resolved since is not resolved twice, and a finding
    raised since (by another node's evaluator) is not raised twice.
    """
    session = uow.session
    changes: list[AlertChanged] = []
    if plan.resolved:
        for row in await repo.unresolved_of(session, plan.resolved):
            row.state = RESOLVED
            row.resolved_at = now
            changes.append(AlertChanged("alert.resolved", alert_view(row), now))
    await repo.retext_alerts(
        session, [(i, f.message[:500], f.details) for i, f in plan.reworded], now
    )
    await repo.refresh_alerts(session, plan.refreshed, now)
    # A finding raised since the plan's read (by another worker's or node's evaluator) is
    # skipped by the insert itself (ADR 0018).
    new_rows = await repo.insert_unless_unresolved(
        session,
        [
            {
                "rule": found.rule,
                "target": found.target,
                "station_id": found.station_id,
                "site_id": found.site_id,
                "severity": found.severity,
                "state": OPEN,
                "message": found.message[:500],
                "details": found.details,
                "raised_at": now,
                "last_seen_at": now,
            }
            for found in plan.raised
        ],
    )
    changes.extend(AlertChanged("alert.raised", alert_view(row), now) for row in new_rows)
    for change in changes:
        uow.emit(change)
    return changes


async def reconcile(
    uow: UnitOfWork, findings: list[Finding], *, now: datetime
) -> list[AlertChanged]:
    """Plan and apply a reconciliation in one unit of work (the evaluator applies it in parts)."""
    plan = await plan_reconcile(await known_alerts(uow.session), findings, now=now)
    return await apply_plan(uow, plan, now=now)


# -- operator actions ----------------------------------------------------------------------


async def acknowledge(uow: UnitOfWork, alert_id: int, *, operator: str, at: datetime) -> Alert:
    """Acknowledge an open alert (idempotent for an acknowledged one; 409 once resolved)."""
    row = await uow.session.get(Alert, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    if row.state == RESOLVED:
        raise Conflict(f"alert {alert_id} is already resolved")
    if row.state == OPEN:
        row.state = ACKNOWLEDGED
        row.acknowledged_at = at
        row.acknowledged_by = operator
        uow.emit(AlertChanged("alert.acknowledged", alert_view(row), at))
    return row


async def list_alerts(
    session: AsyncSession,
    *,
    state: str | None,
    station_id: str | None,
    site_id: str | None,
    rule: str | None,
    limit: int,
    offset: int,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Alert], int]:
    """A page of alerts with filters, newest first (matching `visible`: the caller's scope)."""
    if state is not None and state not in STATES:
        raise Invalid(f"state must be one of {', '.join(STATES)}")
    return await repo.list_alerts(
        session,
        state=state,
        station_id=station_id,
        site_id=site_id,
        rule=rule,
        limit=limit,
        offset=offset,
        visible=visible,
    )


async def get_alert(session: AsyncSession, alert_id: int) -> Alert:
    """One alert; NotFound otherwise."""
    row = await session.get(Alert, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return row


async def open_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Unresolved alerts counted by (rule, state) (for the metrics gauge and the dashboard)."""
    return await repo.count_unresolved(session)
