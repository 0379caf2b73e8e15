"""Alerts: load what the rules look at, raise / refresh / auto-resolve, acknowledge, list, rules."""

from __future__ import annotations

from dataclasses import dataclass
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
        found = await uptime.station_uptimes(session, since=now - timedelta(days=days), until=now)
        self._values = {
            sid: u.total.percent
            for sid, u in found.items()
            if max(p.period_s for p in u.ports.values()) >= rules.UPTIME_MIN_OBSERVED_S
        }
        self._key = (days, now)
        return self._values


async def load_snapshot(
    session: AsyncSession,
    settings: dict[str, RuleSettings],
    *,
    now: datetime,
    uptimes: UptimeMemo | None = None,
) -> Snapshot:
    """Read what the enabled rules need, and nothing for disabled ones."""

    def on(rule: str) -> RuleSettings | None:
        config = settings.get(rule)
        return config if config is not None and config.enabled else None

    boots: dict[str, list[datetime]] = {}
    if config := on(rules.BOOT_LOOP):
        since = now - timedelta(minutes=config.params["minutes"])
        for boot in await repo.boots_since(session, since):
            boots.setdefault(boot.station_id, []).append(_utc(boot.at))
    uptime_of: dict[str, Decimal | None] = {}
    if config := on(rules.UPTIME_BELOW):
        memo = uptimes or UptimeMemo(refresh_s=0)
        uptime_of = await memo.get(session, days=config.params["days"], now=now)
    stations = tuple(
        StationState(
            station_id=r.id,
            site_id=r.site_id,
            online=r.online,
            last_seen=_utc(r.last_seen) if r.last_seen is not None else None,
            firmware_status=r.firmware_status,
            diagnostics_status=r.diagnostics_status,
            status=r.status,
            error_code=r.error_code,
            boots=tuple(boots.get(r.id, ())),
            uptime=uptime_of.get(r.id),
        )
        for r in await repo.known_stations(session)
    )
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
    transactions: tuple[TransactionState, ...] = ()
    if on(rules.TRANSACTION_NO_METER_VALUES) or on(rules.TRANSACTION_TOO_LONG):
        transactions = tuple(
            TransactionState(
                transaction_pk=r.id,
                station_id=r.station_id,
                site_id=r.site_id,
                started_at=_utc(r.started_at) if r.started_at is not None else None,
                last_meter_at=_utc(r.last_meter_at) if r.last_meter_at is not None else None,
            )
            for r in await repo.active_transactions(session)
        )
    events: tuple[SecurityEventState, ...] = ()
    if config := on(rules.SECURITY_EVENT):
        since = now - timedelta(hours=config.params["hours"])
        events = tuple(
            SecurityEventState(
                station_id=r.station_id, site_id=r.site_id, type=r.type, at=_utc(r.received_at)
            )
            for r in await repo.critical_security_events(session, since)
        )
    return Snapshot(stations, connectors, transactions, events)


def _utc(at: datetime) -> datetime:
    # SQLite returns naive datetimes; every stored time is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


async def reconcile(
    uow: UnitOfWork, findings: list[Finding], *, now: datetime
) -> list[AlertChanged]:
    """Raise new findings, refresh known ones, resolve alerts whose condition cleared.

    One unresolved alert per (rule, target): a finding that is already open (or acknowledged)
    refreshes it rather than raising a second one.
    """
    session = uow.session
    current = {(a.rule, a.target): a for a in await repo.unresolved_alerts(session)}
    wanted = {f.key: f for f in findings}
    changes: list[AlertChanged] = []
    new_rows: list[Alert] = []
    for key, found in wanted.items():
        row = current.get(key)
        if row is not None:
            row.last_seen_at = now
            if row.message != found.message or row.details != found.details:
                row.message = found.message[:500]
                row.details = found.details
            continue
        row = Alert(
            rule=found.rule,
            target=found.target,
            station_id=found.station_id,
            site_id=found.site_id,
            severity=found.severity,
            state=OPEN,
            message=found.message[:500],
            details=found.details,
            raised_at=now,
            last_seen_at=now,
        )
        session.add(row)
        new_rows.append(row)
    for key, row in current.items():
        if key not in wanted:
            row.state = RESOLVED
            row.resolved_at = now
            changes.append(AlertChanged("alert.resolved", alert_view(row), now))
    await session.flush()  # ids for the raised alerts
    changes.extend(AlertChanged("alert.raised", alert_view(row), now) for row in new_rows)
    for change in changes:
        uow.emit(change)
    return changes


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
