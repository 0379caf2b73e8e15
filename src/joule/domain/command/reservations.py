"""Reservations (1.6 §5.13/§5.1, 2.x H01/H02): kept in the database, sent, audited.

The reservation row is written first: its id is the reservationId the station gets, unique
across Joule. The station's answer becomes the row's status; a reservation that never reached
the station (offline, refused by the schema, a CALLERROR) is removed again, while one with no
answer in time stays Requested (the station may hold it) until it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joule.domain.command import reservation_state as state
from joule.domain.command.service import CommandService
from joule.domain.command.service import fixed as _fixed
from joule.domain.command.translate import Payload, Request
from joule.domain.command.translate_reservation import (
    cancel_reservation_request,
    reserve_request,
)
from joule.kit.errors import Invalid, NotFound, StationCallError, StationOffline
from joule.ocpp.versions import OcppVersion
from joule.storage.models import Reservation
from joule.storage.repositories import listing
from joule.storage.repositories import reservation as repo
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReservationView:
    """A reservation as the operator sees it (status as of now)."""

    id: int
    station_id: str
    evse_id: int | None
    id_token: str
    group_id_token: str | None
    expiry: datetime
    status: str
    transaction_id: int | None
    operator: str | None
    created_at: datetime
    updated_at: datetime


def _view(row: Reservation, now: datetime) -> ReservationView:
    return ReservationView(
        id=row.id,
        station_id=row.station_id,
        evse_id=row.evse_id,
        id_token=row.id_token,
        group_id_token=row.group_id_token,
        expiry=row.expiry,
        status=state.status_at(row, now),
        transaction_id=row.transaction_id,
        operator=row.operator,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def reserve(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    uid: str,
    expires_at: datetime,
    evse_id: int | None = None,
    group_uid: str | None = None,
    connector_type: str | None = None,
) -> Payload:
    """ReserveNow; the answer carries the `reservationId` to cancel it with."""
    now = commands.clock.now()
    if expires_at <= now:
        raise Invalid("expiry must be in the future")

    async def create(uow: UnitOfWork) -> tuple[int, str | None]:
        if await listing.get_station(uow.session, station_id) is None:
            raise NotFound(f"station {station_id} does not exist")
        token = await tokens.get_token(uow.session, uid)
        row = await repo.add_reservation(
            uow.session,
            station_id=station_id,
            evse_id=evse_id,
            connector_id=None,
            id_token=token.uid if token is not None else uid,
            group_id_token=group_uid,
            expiry=expires_at,
            status=state.REQUESTED,
            operator=operator,
            at=now,
        )
        return row.id, token.type if token is not None else None

    reservation_id, token_type = await commands.committer.run(create)

    def build(version: OcppVersion) -> Request:
        return reserve_request(
            version,
            reservation_id=reservation_id,
            expires_at=expires_at,
            uid=uid,
            token_type=token_type,
            evse_id=evse_id,
            group_uid=group_uid,
            connector_type=connector_type,
        )

    params = {"uid": uid, "evse_id": evse_id, "expires_at": expires_at.isoformat()}
    try:
        answer = await commands.send(station_id, operator, "reserve", params, _fixed(build))
    except (Invalid, StationOffline, StationCallError):
        await commands.committer.run(
            lambda uow: repo.delete_reservation(uow.session, reservation_id)
        )
        raise
    status = answer.get("status")

    async def settle(uow: UnitOfWork) -> None:
        row = await repo.get_reservation(uow.session, station_id, reservation_id)
        if row is not None and isinstance(status, str) and row.status == state.REQUESTED:
            row.status = status  # Accepted | Faulted | Occupied | Rejected | Unavailable
            row.updated_at = commands.clock.now()

    await commands.committer.run(settle)
    return {**answer, "reservationId": reservation_id}


async def cancel(
    commands: CommandService, station_id: str, *, operator: str, reservation_id: int
) -> Payload:
    """CancelReservation; an Accepted answer marks the reservation Cancelled."""

    async def find(uow: UnitOfWork) -> None:
        if await repo.get_reservation(uow.session, station_id, reservation_id) is None:
            raise NotFound(f"reservation {reservation_id} of station {station_id} not found")

    await commands.committer.read(find)
    params = {"reservation_id": reservation_id}
    answer = await commands.send(
        station_id,
        operator,
        "cancel_reservation",
        params,
        _fixed(lambda version: cancel_reservation_request(version, reservation_id=reservation_id)),
    )
    if answer.get("status") == "Accepted":

        async def cancelled(uow: UnitOfWork) -> None:
            row = await repo.get_reservation(uow.session, station_id, reservation_id)
            if row is not None and row.status != state.USED:
                row.status = state.CANCELLED
                row.updated_at = commands.clock.now()

        await commands.committer.run(cancelled)
    return answer


async def list_reservations(
    commands: CommandService, station_id: str, *, holding_only: bool = False
) -> list[ReservationView]:
    """A station's reservations, newest first, with expiry applied as of now."""
    now = commands.clock.now()

    async def work(uow: UnitOfWork) -> list[ReservationView]:
        if await listing.get_station(uow.session, station_id) is None:
            raise NotFound(f"station {station_id} does not exist")
        rows = await repo.reservations_of(
            uow.session, station_id, statuses=state.HOLDING if holding_only else None
        )
        views = [_view(row, now) for row in rows]
        return [v for v in views if v.status in state.HOLDING] if holding_only else views

    return await commands.committer.read(work)
