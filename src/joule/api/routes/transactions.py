"""Transactions: lists with live energy, and one transaction with its meter values."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from joule.api.deps import CurrentOperator, Db, PageParams
from joule.api.schemas.common import Page, as_utc
from joule.api.schemas.transaction import TransactionDetailRead, TransactionRead
from joule.domain.registry import transactions

router = APIRouter(tags=["transactions"])


@router.get("/transactions")
async def list_transactions(
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    station_id: str | None = None,
    status: Literal["active", "completed"] | None = None,
    since: Annotated[AwareDatetime | None, Query(description="started at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="started before")] = None,
) -> Page[TransactionRead]:
    """Transactions, newest start first; energy is live while active."""
    found, total = await db.read(
        lambda s: transactions.list_transactions(
            s,
            station_id=station_id,
            status=status,
            since=as_utc(since) if since else None,
            until=as_utc(until) if until else None,
            limit=page.limit,
            offset=page.offset,
            scope=operator.scope,
        )
    )
    items = [TransactionRead.of(view) for view in found]
    return Page[TransactionRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/transactions/{transaction_id}")
async def get_transaction(
    transaction_id: int, operator: CurrentOperator, db: Db
) -> TransactionDetailRead:
    """One transaction with every meter value, in time order."""
    scope = operator.scope
    detail = await db.read(lambda s: transactions.get_transaction(s, transaction_id, scope=scope))
    return TransactionDetailRead.of_detail(detail)
