"""Transaction read views: lists with live energy, one transaction with its meter values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, station_in_scope, transaction_condition
from joule.domain.transaction.lifecycle import energy_wh
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import SampledValue, Transaction
from joule.storage.repositories import transaction as transactions

STATUSES = ("active", "completed")


@dataclass(frozen=True, slots=True)
class TransactionView:
    """A transaction with its energy: live while active, final once completed."""

    transaction: Transaction
    energy_wh: Decimal | None


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    """A transaction view with every meter value it received."""

    view: TransactionView
    meter_values: list[SampledValue]


def _view(tx: Transaction) -> TransactionView:
    return TransactionView(transaction=tx, energy_wh=energy_wh(tx))


async def list_transactions(
    session: AsyncSession,
    *,
    station_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
    scope: Scope | None = None,
) -> tuple[list[TransactionView], int]:
    """A page of transactions, newest start first, and the total count (inside `scope`)."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"unknown transaction status {status!r} (active or completed)")
    rows, total = await transactions.list_transactions(
        session,
        station_id=station_id,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        visible=None if scope is None else transaction_condition(scope),
    )
    return [_view(tx) for tx in rows], total


async def get_transaction(
    session: AsyncSession, pk: int, *, scope: Scope | None = None
) -> TransactionDetail:
    """One transaction with its meter values in time order; NotFound if unknown or out of scope."""
    tx = await transactions.get_transaction(session, pk)
    if tx is None or (
        scope is not None and not await station_in_scope(session, scope, tx.station_id)
    ):
        raise NotFound(f"transaction {pk} does not exist")
    meter_values = await transactions.meter_values_of(session, pk)
    return TransactionDetail(view=_view(tx), meter_values=meter_values)
