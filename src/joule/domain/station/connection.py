"""Connection-level station services the runtime wires into the gateway (session-based)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.committer import Preload
from joule.storage.repositories import station as repo
from joule.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class StationAccess:
    """What the gateway must know about a station to let it in."""

    station_id: str
    registration: str  # accepted | pending | rejected
    password_hash: str | None
    security_profile: int
    min_security_profile: int
    boot_status: str | None
    timezone: str | None
    assume_subprotocol: str | None
    lenient: bool | None


async def get_access(session: AsyncSession, station_id: str) -> StationAccess | None:
    """The access record of a known station, None for an unknown id."""
    return (await get_accesses(session, [station_id])).get(station_id)


async def get_accesses(
    session: AsyncSession, station_ids: Collection[str]
) -> dict[str, StationAccess]:
    """The access records of the known stations among `station_ids` (one query, no ORM object:
    the gateway's lookups of a connect storm are served together, T8)."""
    return {row.station_id: _access_of(row) for row in await repo.access_rows(session, station_ids)}


def _access_of(row: Row[Any]) -> StationAccess:
    return StationAccess(
        station_id=row.station_id,
        registration=row.registration,
        password_hash=row.password_hash,
        security_profile=row.security_profile,
        min_security_profile=row.min_security_profile,
        boot_status=row.boot_status,
        timezone=row.timezone,
        assume_subprotocol=row.assume_subprotocol,
        lenient=row.lenient,
    )


def register_preload(station_id: str) -> Preload:
    """What register_unknown reads, loaded with the batch's other registrations (T7)."""
    return {repo.load_access_rows: (station_id,)}


async def register_unknown(
    uow: UnitOfWork, *, station_id: str, accept: bool, at: datetime
) -> StationAccess:
    """Register a station never seen before: accepted, or pending for an operator to approve.

    The row is written at the batch's flush (repo.queue_new_station): a storm of new stations
    costs one access read and one INSERT per batch (with register_preload), not an ORM object and
    a flush each (T7).
    """
    row = await repo.batch_access_row(uow, station_id)
    if row is not None:
        return _access_of(row)  # another connection (or node) registered it first
    registration = "accepted" if accept else "pending"
    # Security profile 0: the station connected without credentials we could check.
    repo.queue_new_station(
        uow, station_id=station_id, registration=registration, security_profile=0, at=at
    )
    return StationAccess(
        station_id=station_id,
        registration=registration,
        password_hash=None,
        security_profile=0,
        min_security_profile=0,
        boot_status=None,
        timezone=None,
        assume_subprotocol=None,
        lenient=None,
    )


async def mark_connected(
    session: AsyncSession,
    *,
    station_id: str,
    ocpp_version: str,
    node: str,
    security_profile: int,
    at: datetime,
) -> None:
    """Record the station online on `node` and raise its minimum security profile (A05.FR.07)."""
    await repo.set_connected(
        session,
        station_id=station_id,
        ocpp_version=ocpp_version,
        node=node,
        security_profile=security_profile,
        at=at,
    )


def queue_connected(
    uow: UnitOfWork,
    *,
    station_id: str,
    ocpp_version: str,
    node: str,
    security_profile: int,
    at: datetime,
) -> None:
    """mark_connected written with the batch's other connects at flush (the gateway's path, T8);
    call write_connected before anything in the same unit that reads or writes presence."""
    repo.queue_connected(
        uow,
        station_id=station_id,
        ocpp_version=ocpp_version,
        node=node,
        security_profile=security_profile,
        at=at,
    )


async def write_connected(uow: UnitOfWork) -> None:
    """Write the connects queued in this unit of work now."""
    await repo.write_connected(uow)


async def mark_disconnected(
    session: AsyncSession,
    *,
    station_id: str,
    at: datetime,
    node: str | None = None,
    connected_at: datetime | None = None,
) -> bool:
    """Mark the station offline unless a newer socket holds it (same node, same connect time)."""
    return await repo.set_disconnected(
        session, station_id=station_id, at=at, node=node, connected_at=connected_at
    )


async def touch_last_seen(session: AsyncSession, seen: Mapping[str, datetime]) -> None:
    """Flush last-seen times of many stations (one UPDATE per station, one round trip)."""
    await repo.touch_last_seen(session, seen)


async def record_connection_audit(
    session: AsyncSession,
    *,
    station_id: str | None,
    remote: str | None,
    outcome: str,
    reason: str,
    at: datetime,
) -> None:
    """Audit a refused or notable connection attempt (scenarios 30, 31, 33)."""
    repo.add_connection_audit(
        session, station_id=station_id, remote=remote, outcome=outcome, reason=reason, at=at
    )
