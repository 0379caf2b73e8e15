"""Writes for connection activity: the message log, quirk counters, node presence reset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import MessageLogEntry, Station
from joule.storage.sqlite_inline import off_the_loop
from joule.storage.uow import UnitOfWork


def append_message_log(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Queue message-log rows for one bulk insert."""
    uow.bulk_insert(MessageLogEntry, rows)


async def prune_message_log(session: AsyncSession, keep: int) -> int:
    """Keep only the newest `keep` entries per station (the log is bounded)."""
    ranked = select(
        MessageLogEntry.id,
        func.row_number()
        .over(partition_by=MessageLogEntry.station_id, order_by=MessageLogEntry.id.desc())
        .label("rn"),
    ).subquery()
    doomed = select(ranked.c.id).where(ranked.c.rn > keep)
    # A scan of the whole log: on SQLite it must not run on the event loop (sqlite_inline.py).
    async with off_the_loop(session):
        result = await session.execute(
            delete(MessageLogEntry).where(MessageLogEntry.id.in_(doomed))
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_quirks(session: AsyncSession, station_id: str, names: tuple[str, ...]) -> None:
    """Increment the station's tolerated-quirk counters (scenario 40)."""
    station = await session.get(Station, station_id)
    if station is None:
        return
    counts = dict(station.quirks or {})
    for name in names:
        counts[name] = int(counts.get(name, 0)) + 1
    station.quirks = counts


async def reset_presence(session: AsyncSession, node: str, at: datetime) -> None:
    """Mark every station this node held as offline (after a crash or restart)."""
    await session.execute(
        update(Station)
        .where(Station.online.is_(True), Station.connected_node == node)
        .values(online=False, connected_node=None, last_seen=func.coalesce(Station.last_seen, at))
    )


async def reset_host_presence(session: AsyncSession, host: str, at: datetime) -> None:
    """Mark offline every station held by this host's Joule: one process or its workers."""
    await session.execute(
        update(Station)
        .where(
            Station.online.is_(True),
            or_(
                Station.connected_node == host,
                Station.connected_node.startswith(f"{host}/w", autoescape=True),
            ),
        )
        .values(online=False, connected_node=None, last_seen=func.coalesce(Station.last_seen, at))
    )
