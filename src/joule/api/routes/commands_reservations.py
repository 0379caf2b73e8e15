"""Reservations: ReserveNow, CancelReservation, and the reservations Joule keeps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command_reservation import ReservationRead, ReserveCommand
from joule.domain.command import reservations

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


@router.post("/stations/{station_id}/reservations")
async def reserve(
    station_id: str, body: ReserveCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """ReserveNow; the station's answer with the `reservationId` Joule assigned."""
    return await reservations.reserve(
        commands,
        station_id,
        operator=operator.email,
        uid=body.uid,
        expires_at=body.expiry,
        evse_id=body.evse_id,
        group_uid=body.group_uid,
        connector_type=body.connector_type,
    )


@router.delete("/stations/{station_id}/reservations/{reservation_id}")
async def cancel(
    station_id: str, reservation_id: int, operator: CommandOperator, commands: Commands
) -> Answer:
    """CancelReservation; Accepted marks the reservation Cancelled."""
    return await reservations.cancel(
        commands, station_id, operator=operator.email, reservation_id=reservation_id
    )


@router.get("/stations/{station_id}/reservations")
async def list_reservations(
    station_id: str,
    operator: CommandOperator,
    commands: Commands,
    active: Annotated[bool, Query(description="only reservations still holding an EVSE")] = False,
) -> list[ReservationRead]:
    """The station's reservations, newest first (expiry applied as of now)."""
    views = await reservations.list_reservations(commands, station_id, holding_only=active)
    return [ReservationRead.model_validate(view) for view in views]
