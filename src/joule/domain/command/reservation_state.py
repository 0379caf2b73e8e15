"""What happens to a reservation after ReserveNow: used, expired, cancelled, removed.

Kept apart from the command service so the transaction handlers can mark a reservation used
without depending on the gateway-facing side.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import Reservation
from joule.storage.repositories import reservation as repo

REQUESTED = "Requested"  # sent, no answer yet (or none in time)
ACCEPTED = "Accepted"
USED = "Used"
EXPIRED = "Expired"
CANCELLED = "Cancelled"
REMOVED = "Removed"
# A reservation that still holds an EVSE until it expires.
HOLDING = frozenset({REQUESTED, ACCEPTED})
# ReservationStatusUpdate (H04) says Expired or Removed; 2.1 adds NoTransaction (the holder
# came but no transaction followed). Each is kept as the station said it.


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at  # SQLite keeps no offset


def status_at(reservation: Reservation, now: datetime) -> str:
    """The reservation's status now: a holding reservation past its expiry has expired."""
    if reservation.status in HOLDING and _aware(reservation.expiry) <= now:
        return EXPIRED
    return reservation.status


async def mark_used(
    session: AsyncSession,
    *,
    station_id: str,
    reservation_id: int,
    transaction_pk: int,
    at: datetime,
) -> None:
    """A transaction started on a reservation (1.6 StartTransaction.reservationId, 2.x
    TransactionEvent.reservationId): it is used up (H03). Unknown ids are ignored."""
    reservation = await repo.get_reservation(session, station_id, reservation_id)
    if reservation is None:
        return
    reservation.status = USED
    reservation.transaction_id = transaction_pk
    reservation.updated_at = at


async def record_update(
    session: AsyncSession, *, station_id: str, reservation_id: int, status: str, at: datetime
) -> None:
    """ReservationStatusUpdate (H04): the station ended a reservation (expired, removed)."""
    reservation = await repo.get_reservation(session, station_id, reservation_id)
    if reservation is None or reservation.status == USED:
        return  # a late update never undoes a use
    reservation.status = status
    reservation.updated_at = at
