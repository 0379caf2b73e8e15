"""Alerts, alert rules, webhooks, their delivery log and e-mail subscriptions; rule inputs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import (
    ALERT_UNRESOLVED_SQL,
    Alert,
    AlertRule,
    AlertSubscription,
    BootRecord,
    Connector,
    SecurityEvent,
    Station,
    Transaction,
    Webhook,
    WebhookDelivery,
)

# id, site, online, last seen, firmware status, diagnostics status, status, error code
_Text = str | None
StationRow = Row[str, _Text, bool, datetime | None, _Text, _Text, _Text, _Text]
# station, site, evse, connector, status, error code, vendor error code
ConnectorRow = Row[str, str | None, int, int, str | None, str | None, str | None]
# transaction pk, station, site, started at, last meter value at
TransactionRow = Row[int, str, str | None, datetime | None, datetime | None]


# -- rule inputs ---------------------------------------------------------------------------

# Rows per read of a network-sized result: each page is converted and handed to the event loop's
# other work before the next is read (T5), and no statement carries thousands of parameters.
PAGE = 200
UNRESOLVED = ("open", "acknowledged")  # an IN list uses ix_alerts_state_raised; != scans history


@dataclass(frozen=True, slots=True)
class StationConditions:
    """Which stations a rule could find something on: the candidates' SQL filter.

    Storage knows no rules; the caller turns each enabled rule's threshold into one of these.
    A station matching none of them cannot raise a finding, so it is never read.
    """

    offline_since: datetime | None = None  # offline and last seen at or before this
    silent_since: datetime | None = None  # connected and last seen at or before this
    statuses: frozenset[str] = frozenset()  # the station's own status (connector 0)
    firmware_statuses: frozenset[str] = frozenset()
    diagnostics_statuses: frozenset[str] = frozenset()
    boot_loop: tuple[datetime, int] | None = None  # at least N BootNotifications since


def _boot_loopers(since: datetime, at_least: int) -> Select[str]:
    return (
        select(BootRecord.station_id)
        .where(BootRecord.at >= since)
        .group_by(BootRecord.station_id)
        .having(func.count() >= at_least)
    )


def _station_filter(conditions: StationConditions) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if conditions.offline_since is not None:
        found.append(and_(Station.online.is_(False), Station.last_seen <= conditions.offline_since))
    if conditions.silent_since is not None:
        found.append(and_(Station.online.is_(True), Station.last_seen <= conditions.silent_since))
    if conditions.statuses:
        found.append(Station.status.in_(sorted(conditions.statuses)))
    if conditions.firmware_statuses:
        found.append(Station.firmware_status.in_(sorted(conditions.firmware_statuses)))
    if conditions.diagnostics_statuses:
        found.append(Station.diagnostics_status.in_(sorted(conditions.diagnostics_statuses)))
    if conditions.boot_loop is not None:
        found.append(Station.id.in_(_boot_loopers(*conditions.boot_loop)))
    return found


_StationSelect = Select[str, _Text, bool, datetime | None, _Text, _Text, _Text, _Text]
_STATION_COLUMNS = (
    Station.id,
    Station.site_id,
    Station.online,
    Station.last_seen,
    Station.firmware_status,
    Station.diagnostics_status,
    Station.status,
    Station.error_code,
)


def _known(query: _StationSelect) -> _StationSelect:
    # Accepted stations that connected at least once: the others are not in operation yet.
    return query.where(Station.registration == "accepted", Station.ocpp_version.is_not(None))


async def candidate_stations(
    session: AsyncSession, conditions: StationConditions
) -> AsyncIterator[Sequence[StationRow]]:
    """Pages of the known stations matching any of the conditions, with what the rules read."""
    where = _station_filter(conditions)
    if not where:
        return
    query = _known(select(*_STATION_COLUMNS)).where(or_(*where)).order_by(Station.id).limit(PAGE)
    after: str | None = None
    while True:
        page = query if after is None else query.where(Station.id > after)
        rows = (await session.execute(page)).all()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


async def stations_named(
    session: AsyncSession, station_ids: Collection[str]
) -> AsyncIterator[Sequence[StationRow]]:
    """Pages of the known stations among `station_ids`."""
    ordered = sorted(station_ids)
    for start in range(0, len(ordered), PAGE):
        chunk = ordered[start : start + PAGE]
        query = _known(select(*_STATION_COLUMNS)).where(Station.id.in_(chunk))
        rows = (await session.execute(query)).all()
        yield rows


async def boot_loop_boots(
    session: AsyncSession, since: datetime, at_least: int
) -> Sequence[Row[str, datetime]]:
    """(station id, at) of the boots since `since` of stations that booted at least N times."""
    query = select(BootRecord.station_id, BootRecord.at).where(
        BootRecord.at >= since, BootRecord.station_id.in_(_boot_loopers(since, at_least))
    )
    return (await session.execute(query)).all()


async def faulted_connectors(session: AsyncSession) -> Sequence[ConnectorRow]:
    """Connectors whose current status is Faulted, with their station's site."""
    query = (
        select(
            Connector.station_id,
            Station.site_id,
            Connector.evse_id,
            Connector.connector_id,
            Connector.status,
            Connector.error_code,
            Connector.vendor_error_code,
        )
        .join(Station, Station.id == Connector.station_id)
        .where(Connector.status == "Faulted")
    )
    return (await session.execute(query)).all()


async def overdue_transactions(
    session: AsyncSession, *, quiet_since: datetime | None, started_before: datetime | None
) -> Sequence[TransactionRow]:
    """Active, not stale transactions with no meter value (nor start) after `quiet_since`, or
    started at or before `started_before`, with their last meter value time."""
    overdue: list[ColumnElement[bool]] = []
    if quiet_since is not None:
        last = func.coalesce(Transaction.last_meter_at, Transaction.started_at)
        overdue.append(last <= quiet_since)
    if started_before is not None:
        overdue.append(Transaction.started_at <= started_before)
    if not overdue:
        return ()
    query = (
        select(
            Transaction.id,
            Transaction.station_id,
            Station.site_id,
            Transaction.started_at,
            Transaction.last_meter_at,
        )
        .join(Station, Station.id == Transaction.station_id)
        .where(Transaction.status == "active", Transaction.stale.is_(False), or_(*overdue))
    )
    return (await session.execute(query)).all()


async def critical_security_events(
    session: AsyncSession, since: datetime
) -> Sequence[Row[str, str | None, str, datetime]]:
    """Critical security events received since `since`, with the station's site."""
    query = (
        select(
            SecurityEvent.station_id, Station.site_id, SecurityEvent.type, SecurityEvent.received_at
        )
        .outerjoin(Station, Station.id == SecurityEvent.station_id)
        .where(SecurityEvent.critical.is_(True), SecurityEvent.received_at >= since)
    )
    return (await session.execute(query)).all()


# -- rules and alerts ----------------------------------------------------------------------


async def rule_rows(session: AsyncSession) -> dict[str, AlertRule]:
    """Stored rule settings by rule name."""
    rows = (await session.execute(select(AlertRule))).scalars().all()
    return {row.rule: row for row in rows}


# id, rule, target, message, details, last seen at
KnownAlertRow = Row[int, str, str, str, dict[str, Any], datetime]


async def unresolved_alerts(session: AsyncSession) -> AsyncIterator[Sequence[KnownAlertRow]]:
    """Pages of every open or acknowledged alert: what a reconciliation compares."""
    query = (
        select(Alert.id, Alert.rule, Alert.target, Alert.message, Alert.details, Alert.last_seen_at)
        .where(Alert.state.in_(UNRESOLVED))
        .order_by(Alert.id)
        .limit(PAGE)
    )
    after = 0
    while True:
        rows = (await session.execute(query.where(Alert.id > after))).all()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


async def unresolved_of(session: AsyncSession, alert_ids: Collection[int]) -> Sequence[Alert]:
    """The alerts among `alert_ids` that are still unresolved (to resolve them)."""
    query = select(Alert).where(Alert.id.in_(sorted(alert_ids)), Alert.state.in_(UNRESOLVED))
    return (await session.execute(query)).scalars().all()


async def insert_unless_unresolved(
    session: AsyncSession, values: Sequence[dict[str, Any]]
) -> list[Alert]:
    """Insert these alerts, each unless its (rule, target) has an unresolved alert by now.

    ON CONFLICT DO NOTHING on ux_alerts_unresolved: an alert another evaluator (a sibling
    worker, another node) raised in a transaction running beside this one is skipped when it
    commits, instead of failing the whole unit or raising the alert twice. Returns the inserted
    rows, in order.
    """
    if not values:
        return []
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Alert)
        .on_conflict_do_nothing(
            index_elements=[Alert.rule, Alert.target], index_where=text(ALERT_UNRESOLVED_SQL)
        )
        .returning(Alert.id)
    )
    ids = [
        inserted
        for row in values
        if (inserted := (await session.execute(statement, row)).scalar_one_or_none()) is not None
    ]
    if not ids:
        return []
    found = {a.id: a for a in await session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    return [found[i] for i in ids]


_REFRESH = (
    update(Alert)
    .where(Alert.id.in_(bindparam("ids", expanding=True)))
    .values(last_seen_at=bindparam("at"))
)
_ALERTS: Table = Alert.__table__  # type: ignore[assignment]
_RETEXT = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("b_id"))
    .values(
        message=bindparam("b_message"),
        details=bindparam("b_details"),
        last_seen_at=bindparam("b_at"),
    )
)


async def refresh_alerts(session: AsyncSession, alert_ids: Collection[int], at: datetime) -> None:
    """The condition of these alerts still holds at `at`."""
    if alert_ids:
        await session.execute(_REFRESH, {"ids": sorted(alert_ids), "at": at})


async def retext_alerts(
    session: AsyncSession, texts: Sequence[tuple[int, str, dict[str, Any]]], at: datetime
) -> None:
    """New message and details for alerts whose condition still holds at `at` (one executemany)."""
    if texts:
        connection = await session.connection()
        await connection.execute(
            _RETEXT,
            [
                {"b_id": alert_id, "b_message": message, "b_details": details, "b_at": at}
                for alert_id, message, details in texts
            ],
        )


async def count_unresolved(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Open and acknowledged alerts counted by (rule, state)."""
    query = (
        select(Alert.rule, Alert.state, func.count())
        .where(Alert.state.in_(UNRESOLVED))
        .group_by(Alert.rule, Alert.state)
    )
    return {(rule, state): n for rule, state, n in (await session.execute(query)).all()}


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
    """A page of alerts, newest first, and the total matching."""
    query = select(Alert)
    if visible is not None:  # the caller's scope, as a condition (storage knows no rules)
        query = query.where(visible)
    if state is not None:
        query = query.where(Alert.state == state)
    if station_id is not None:
        query = query.where(Alert.station_id == station_id)
    if site_id is not None:
        query = query.where(Alert.site_id == site_id)
    if rule is not None:
        query = query.where(Alert.rule == rule)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    page = query.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
    return list((await session.execute(page)).scalars().all()), int(total)


# -- delivery ------------------------------------------------------------------------------


async def active_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Webhooks that receive alerts."""
    query = select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
    return (await session.execute(query)).scalars().all()


async def all_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Every webhook."""
    return (await session.execute(select(Webhook).order_by(Webhook.id))).scalars().all()


async def deliveries_of(
    session: AsyncSession, webhook_id: int, *, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    """A page of a webhook's delivery attempts, newest first."""
    where = WebhookDelivery.webhook_id == webhook_id
    total = (
        await session.execute(select(func.count()).select_from(WebhookDelivery).where(where))
    ).scalar_one()
    query = (
        select(WebhookDelivery)
        .where(where)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(query)).scalars().all()), int(total)


async def all_subscriptions(session: AsyncSession) -> Sequence[AlertSubscription]:
    """Every e-mail subscription."""
    query = select(AlertSubscription).order_by(AlertSubscription.id)
    return (await session.execute(query)).scalars().all()
