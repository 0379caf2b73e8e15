"""Alerts, alert rules, webhooks, their delivery log and e-mail subscriptions; rule inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import (
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

RESOLVED = "resolved"

# id, site, online, last seen, firmware status, diagnostics status, status, error code
_Text = str | None
StationRow = Row[str, _Text, bool, datetime | None, _Text, _Text, _Text, _Text]
# station, site, evse, connector, status, error code, vendor error code
ConnectorRow = Row[str, str | None, int, int, str | None, str | None, str | None]
# transaction pk, station, site, started at, last meter value at
TransactionRow = Row[int, str, str | None, datetime | None, datetime | None]


# -- rule inputs ---------------------------------------------------------------------------


async def known_stations(session: AsyncSession) -> Sequence[StationRow]:
    """Accepted stations that connected at least once, with what the rules look at."""
    query = select(
        Station.id,
        Station.site_id,
        Station.online,
        Station.last_seen,
        Station.firmware_status,
        Station.diagnostics_status,
        Station.status,
        Station.error_code,
    ).where(Station.registration == "accepted", Station.ocpp_version.is_not(None))
    return (await session.execute(query)).all()


async def boots_since(session: AsyncSession, since: datetime) -> Sequence[Row[str, datetime]]:
    """(station id, at) of every BootNotification since `since`."""
    query = select(BootRecord.station_id, BootRecord.at).where(BootRecord.at >= since)
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


async def active_transactions(session: AsyncSession) -> Sequence[TransactionRow]:
    """Active, not stale transactions with their last meter value time."""
    query = (
        select(
            Transaction.id,
            Transaction.station_id,
            Station.site_id,
            Transaction.started_at,
            Transaction.last_meter_at,
        )
        .join(Station, Station.id == Transaction.station_id)
        .where(Transaction.status == "active", Transaction.stale.is_(False))
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


async def unresolved_alerts(session: AsyncSession) -> Sequence[Alert]:
    """Every open or acknowledged alert."""
    return (await session.execute(select(Alert).where(Alert.state != RESOLVED))).scalars().all()


async def count_unresolved(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Open and acknowledged alerts counted by (rule, state)."""
    query = (
        select(Alert.rule, Alert.state, func.count())
        .where(Alert.state != RESOLVED)
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
