"""Charging profiles, raw in the station's version's shape (until load management lands)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from joule.api.schemas.command import CommandBody


class ChargingProfileCommand(CommandBody):
    """SetChargingProfile: `profile` is a 1.6 csChargingProfiles or a 2.x ChargingProfileType,
    checked against the station's version's schema (422 on a mismatch)."""

    evse_id: int = Field(ge=0, description="0: the whole station; 1.6: the connectorId")
    profile: dict[str, Any]
