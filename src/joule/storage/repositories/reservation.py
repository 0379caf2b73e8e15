"""SQL for reservations (ReserveNow). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import Reservation


async def add_reservation(
    session: AsyncSession,
    *,
    station_id: str,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str,
    group_id_token: str | None,
    expiry: datetime,
    status: str,
    operator: str | None,
    at: datetime,
) -> Reservation:
    """Add a reservation and flush it: its id is the reservationId sent to the station."""
    reservation = Reservation(
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=id_token,
        group_id_token=group_id_token,
        expiry=expiry,
        status=status,
        operator=operator,
        created_at=at,
        updated_at=at,
    )
    session.add(reservation)
    await session.flush()
    return reservation


async def get_reservation(
    session: AsyncSession, station_id: str, reservation_id: int
) -> Reservation | None:
    """One reservation of a station."""
    reservation = await session.get(Reservation, reservation_id)
    if reservation is None or reservation.station_id != station_id:
        return None
    return reservation


async def delete_reservation(session: AsyncSession, reservation_id: int) -> None:
    """Remove a reservation that never reached the station."""
    reservation = await session.get(Reservation, reservation_id)
    if reservation is not None:
        await session.delete(reservation)


async def reservations_of(
    session: AsyncSession, station_id: str, *, statuses: frozenset[str] | None = None
) -> list[Reservation]:
    """A station's reservations, newest first (optionally only some statuses)."""
    query = (
        select(Reservation)
        .where(Reservation.station_id == station_id)
        .order_by(Reservation.id.desc())
    )
    if statuses is not None:
        query = query.where(Reservation.status.in_(statuses))
    return list((await session.scalars(query)).all())
