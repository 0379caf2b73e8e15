"""Meter values: queued bulk inserts on the hot path, and reads by station. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import MeterValue
from joule.storage.uow import UnitOfWork

# The order of a meter-value row tuple (queue_meter_values).
METER_VALUE_KEYS = (
    "station_id",
    "evse_id",
    "connector_id",
    "transaction_pk",
    "timestamp",
    "measurand",
    "phase",
    "location",
    "context",
    "value",
    "unit",
    "raw_value",
    "raw_unit",
    "signed_data",
)


def queue_meter_values(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> None:
    """Queue meter-value rows (tuples in METER_VALUE_KEYS order) for one executemany at flush
    (T10: no row-by-row inserts)."""
    uow.bulk_insert_rows(MeterValue, METER_VALUE_KEYS, rows)


async def station_meter_values(
    session: AsyncSession,
    *,
    station_id: str,
    evse_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[MeterValue]:
    """A station's meter values in time order, optionally one EVSE and a since ≤ t < until range."""
    query = select(MeterValue).where(MeterValue.station_id == station_id)
    if evse_id is not None:
        query = query.where(MeterValue.evse_id == evse_id)
    if since is not None:
        query = query.where(MeterValue.timestamp >= since)
    if until is not None:
        query = query.where(MeterValue.timestamp < until)
    rows = await session.scalars(query.order_by(MeterValue.timestamp, MeterValue.id).limit(limit))
    return list(rows)
