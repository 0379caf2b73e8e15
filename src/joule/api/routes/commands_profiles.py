"""Charging profiles, raw (until load management lands): set, clear, composite schedule."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command_profiles import ChargingProfileCommand
from joule.domain.command import profiles

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


@router.post("/stations/{station_id}/charging-profiles")
async def set_profile(
    station_id: str, body: ChargingProfileCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """SetChargingProfile; 422 when the profile does not match the station's version's schema."""
    return await profiles.set_profile(
        commands, station_id, operator=operator.email, evse_id=body.evse_id, profile=body.profile
    )


@router.delete("/stations/{station_id}/charging-profiles")
async def clear_profiles(
    station_id: str,
    operator: CommandOperator,
    commands: Commands,
    id: Annotated[int | None, Query(description="the profile id")] = None,
    evse_id: Annotated[int | None, Query(ge=0)] = None,
    purpose: Annotated[str | None, Query(examples=["TxDefaultProfile"])] = None,
    stack_level: Annotated[int | None, Query(ge=0)] = None,
) -> Answer:
    """ClearChargingProfile by id and/or EVSE, purpose, stack level (none: every profile)."""
    return await profiles.clear_profiles(
        commands,
        station_id,
        operator=operator.email,
        profile_id=id,
        evse_id=evse_id,
        purpose=purpose,
        stack_level=stack_level,
    )


@router.get("/stations/{station_id}/composite-schedule")
async def composite_schedule(
    station_id: str,
    operator: CommandOperator,
    commands: Commands,
    duration: Annotated[int, Query(ge=1, description="seconds from now")],
    evse_id: Annotated[int, Query(ge=0, description="0: the whole station")] = 0,
    unit: Annotated[Literal["A", "W"] | None, Query()] = None,
) -> Answer:
    """GetCompositeSchedule: the limits the station will apply on an EVSE."""
    return await profiles.composite_schedule(
        commands, station_id, operator=operator.email, evse_id=evse_id, duration=duration, unit=unit
    )
