"""Writes for connection activity: the message log, quirk counters, node presence reset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import MessageLogEntry, Station
from joule.storage.uow import UnitOfWork

# The order of a message-log row tuple (append_message_log).
MESSAGE_LOG_KEYS = (
    "station_id",
    "direction",
    "message_type",
    "message_id",
    "action",
    "frame",
    "at",
)


def append_message_log(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> None:
    """Queue message-log rows (tuples in MESSAGE_LOG_KEYS order) for one bulk insert: two rows
    per exchange, a tuple each instead of a dict (T3, T7)."""
    uow.bulk_insert_rows(MessageLogEntry, MESSAGE_LOG_KEYS, rows)


async def prune_message_log(session: AsyncSession, keep: int, station_ids: Sequence[str]) -> int:
    """Keep only the newest `keep` entries of each of these stations (the log is bounded).

    One indexed range delete per station, on (station_id, id): the cost follows the rows logged
    since the last prune, not the size of the whole log (a window over every row of every
    station took the writer for seconds once the log held millions: T6's "never > 1 s").
    """
    if keep < 1 or not station_ids:
        return 0
    oldest_kept = (
        select(MessageLogEntry.id)
        .where(MessageLogEntry.station_id == bindparam("station"))
        .order_by(MessageLogEntry.id.desc())
        .limit(1)
        .offset(keep - 1)
        .scalar_subquery()
    )
    statement = delete(MessageLogEntry).where(
        MessageLogEntry.station_id == bindparam("station"), MessageLogEntry.id < oldest_kept
    )
    connection = await session.connection()
    result = await connection.execute(statement, [{"station": s} for s in station_ids])
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
