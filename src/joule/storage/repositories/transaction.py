"""Transactions, their 2.x events and parked (unmatched) messages. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import (
    MeterValue,
    ParkedMessage,
    SampledValue,
    Transaction,
    TransactionEvent,
    sampled_values,
)


async def get_transaction(session: AsyncSession, pk: int) -> Transaction | None:
    """The transaction with this primary key."""
    return await session.get(Transaction, pk)


_BIGINT = 2**63  # ids are 64-bit; a station may send any JSON integer


async def get_station_transaction(
    session: AsyncSession, station_id: str, pk: int
) -> Transaction | None:
    """A 1.6 transaction by the transactionId we issued, only if it belongs to this station."""
    if not -_BIGINT <= pk < _BIGINT:
        return None
    # A primary-key load cannot see other rows' pending changes, so it need not flush them: the
    # batch's meter-value updates then go out as one executemany at commit (T3), not one each.
    with session.no_autoflush:
        tx = await session.get(Transaction, pk)
    return tx if tx is not None and tx.station_id == station_id else None


async def get_by_uid(
    session: AsyncSession, station_id: str, transaction_uid: str
) -> Transaction | None:
    """A transaction by the station's own id (2.x transactionId), unique per station."""
    return await session.scalar(
        select(Transaction).where(
            Transaction.station_id == station_id, Transaction.transaction_uid == transaction_uid
        )
    )


async def find_started(
    session: AsyncSession,
    *,
    station_id: str,
    evse_id: int,
    id_token: str,
    started_at: datetime,
    meter_start_wh: Decimal | None,
) -> Transaction | None:
    """The transaction a repeated 1.6 StartTransaction already created (scenario 2)."""
    # A station cannot stop a transaction before it has our transactionId, so the original of
    # a retried start is still active: the (station_id, status) index covers the lookup.
    return await session.scalar(
        select(Transaction)
        .where(
            Transaction.station_id == station_id,
            Transaction.status == "active",
            Transaction.evse_id == evse_id,
            Transaction.id_token == id_token,
            Transaction.started_at == started_at,
            Transaction.meter_start_wh.is_(None)
            if meter_start_wh is None
            else Transaction.meter_start_wh == meter_start_wh,
        )
        .order_by(Transaction.id)
        .limit(1)
    )


async def active_on_evse(session: AsyncSession, station_id: str, evse_id: int) -> list[Transaction]:
    """Active transactions on one EVSE (1.6: connector), the most recently started first."""
    rows = await session.scalars(
        select(Transaction)
        .where(
            Transaction.station_id == station_id,
            Transaction.status == "active",
            Transaction.evse_id == evse_id,
        )
        .order_by(Transaction.started_at.desc(), Transaction.id.desc())
    )
    return list(rows)


async def create_transaction(
    session: AsyncSession,
    *,
    station_id: str,
    transaction_uid: str | None,
    at: datetime,
    evse_id: int | None = None,
    connector_id: int | None = None,
    id_token: str | None = None,
    id_token_type: str | None = None,
    auth_status: str | None = None,
    started_at: datetime | None = None,
    meter_start_wh: Decimal | None = None,
    reservation_id: int | None = None,
    remote_start_id: int | None = None,
    offline: bool = False,
) -> Transaction:
    """Insert an active transaction; transaction_uid None means str(id) (1.6: we issue the id)."""
    # The unique (station_id, transaction_uid) needs a value at INSERT time: a placeholder that
    # cannot collide, replaced by the id in the same flush cycle.
    tx = Transaction(
        station_id=station_id,
        transaction_uid=transaction_uid or f"~{uuid.uuid4().hex}",
        status="active",
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=id_token,
        id_token_type=id_token_type,
        auth_status=auth_status,
        started_at=started_at,
        meter_start_wh=meter_start_wh,
        # Live energy starts at 0 Wh: the start reading is the first known register value.
        last_meter_wh=meter_start_wh,
        last_meter_at=started_at if meter_start_wh is not None else None,
        reservation_id=reservation_id,
        remote_start_id=remote_start_id,
        offline=offline,
        stale=False,
        seq_nos={},
        created_at=at,
        updated_at=at,
    )
    session.add(tx)
    await session.flush()
    if transaction_uid is None:
        tx.transaction_uid = str(tx.id)
    return tx


async def event_seen(
    session: AsyncSession, *, transaction_pk: int, seq_no: int, event_type: str, timestamp: datetime
) -> bool:
    """True when this TransactionEvent (by its dedupe key) is already stored (scenario 6)."""
    found = await session.scalar(
        select(TransactionEvent.id).where(
            TransactionEvent.transaction_pk == transaction_pk,
            TransactionEvent.seq_no == seq_no,
            TransactionEvent.event_type == event_type,
            TransactionEvent.timestamp == timestamp,
        )
    )
    return found is not None


def add_event(
    session: AsyncSession,
    *,
    transaction_pk: int,
    seq_no: int,
    event_type: str,
    trigger_reason: str,
    timestamp: datetime,
    offline: bool,
    received_at: datetime,
    payload: dict[str, Any],
) -> TransactionEvent:
    """Queue a TransactionEvent row (written at the next flush)."""
    event = TransactionEvent(
        transaction_pk=transaction_pk,
        seq_no=seq_no,
        event_type=event_type,
        trigger_reason=trigger_reason,
        timestamp=timestamp,
        offline=offline,
        received_at=received_at,
        payload=payload,
    )
    session.add(event)
    return event


async def park_message(
    session: AsyncSession,
    *,
    station_id: str,
    action: str,
    reason: str,
    payload: dict[str, Any],
    at: datetime,
) -> ParkedMessage:
    """Keep an unmatched transaction message for reconciliation (Q18); a repeat is kept once."""
    open_rows = await session.scalars(
        select(ParkedMessage).where(
            ParkedMessage.station_id == station_id,
            ParkedMessage.action == action,
            ParkedMessage.resolved.is_(False),
        )
    )
    for row in open_rows:
        if row.payload == payload:
            return row
    parked = ParkedMessage(
        station_id=station_id, action=action, reason=reason, payload=payload, at=at, resolved=False
    )
    session.add(parked)
    return parked


async def list_transactions(
    session: AsyncSession,
    *,
    station_id: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Transaction], int]:
    """One page of transactions (newest start first) and the total; since ≤ start < until."""
    started = func.coalesce(Transaction.started_at, Transaction.created_at)
    query = select(Transaction)
    if visible is not None:  # the caller's scope, as a condition (storage knows no rules)
        query = query.where(visible)
    if station_id is not None:
        query = query.where(Transaction.station_id == station_id)
    if status is not None:
        query = query.where(Transaction.status == status)
    if since is not None:
        query = query.where(started >= since)
    if until is not None:
        query = query.where(started < until)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(started.desc(), Transaction.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def meter_values_of(session: AsyncSession, transaction_pk: int) -> list[SampledValue]:
    """Every sampled value of a transaction, in time order (a reading's in the order sent)."""
    rows = await session.scalars(
        select(MeterValue)
        .where(MeterValue.transaction_pk == transaction_pk)
        .order_by(MeterValue.timestamp, MeterValue.id)
    )
    return sampled_values(rows)
