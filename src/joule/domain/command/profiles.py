"""Raw charging profiles (K01, K10, K08) until load management lands: send and audit."""

from __future__ import annotations

from typing import Any

from joule.domain.command.service import CommandService, fixed
from joule.domain.command.translate import Payload
from joule.domain.command.translate_profiles import (
    clear_profile_request,
    composite_schedule_request,
    set_profile_request,
)


async def set_profile(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    evse_id: int,
    profile: dict[str, Any],
) -> Payload:
    """SetChargingProfile; the profile is in the station's version's shape (422 otherwise)."""
    build = fixed(lambda version: set_profile_request(version, evse_id=evse_id, profile=profile))
    params = {"evse_id": evse_id, "profile": profile}
    return await commands.send(station_id, operator, "set_charging_profile", params, build)


async def clear_profiles(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    profile_id: int | None = None,
    evse_id: int | None = None,
    purpose: str | None = None,
    stack_level: int | None = None,
) -> Payload:
    """ClearChargingProfile by id and/or EVSE, purpose, stack level (purposes translated)."""
    build = fixed(
        lambda version: clear_profile_request(
            version,
            profile_id=profile_id,
            evse_id=evse_id,
            purpose=purpose,
            stack_level=stack_level,
        )
    )
    params = {
        "profile_id": profile_id,
        "evse_id": evse_id,
        "purpose": purpose,
        "stack_level": stack_level,
    }
    return await commands.send(station_id, operator, "clear_charging_profile", params, build)


async def composite_schedule(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    evse_id: int,
    duration: int,
    unit: str | None = None,
) -> Payload:
    """GetCompositeSchedule: what the station will allow on an EVSE for the next `duration` s."""
    build = fixed(
        lambda version: composite_schedule_request(
            version, evse_id=evse_id, duration=duration, unit=unit
        )
    )
    params = {"evse_id": evse_id, "duration": duration, "unit": unit}
    return await commands.send(station_id, operator, "composite_schedule", params, build)
