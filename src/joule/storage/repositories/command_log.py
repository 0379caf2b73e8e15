"""SQL for the operator command audit log (append-only, scenario 39)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import CommandRecord
from joule.storage.repositories.listing import page


def append_command(
    session: AsyncSession,
    *,
    station_id: str,
    operator: str | None,
    action: str,
    message_id: str | None,
    request: dict[str, Any],
    outcome: str,
    response: dict[str, Any] | None,
    at: datetime,
) -> CommandRecord:
    """Add one audit record; it is written with the unit of work's next flush."""
    record = CommandRecord(
        station_id=station_id,
        operator=operator,
        action=action,
        message_id=message_id,
        request=request,
        outcome=outcome,
        response=response,
        at=at,
    )
    session.add(record)
    return record


async def commands_of(
    session: AsyncSession, station_id: str, *, action: str | None, limit: int, offset: int
) -> tuple[list[CommandRecord], int]:
    """A page of a station's command records, newest first."""
    query = (
        select(CommandRecord)
        .where(CommandRecord.station_id == station_id)
        .order_by(CommandRecord.id.desc())
    )
    if action is not None:
        query = query.where(CommandRecord.action == action)
    return await page(session, query, limit=limit, offset=offset)
