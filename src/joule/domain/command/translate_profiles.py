"""Charging profiles (raw, until load management lands) → each version's CALL (pure).

The profile itself travels as the operator wrote it, in the station's version's shape; the
schema check in service.check_request refuses a mismatch before anything is sent.
"""

from __future__ import annotations

from typing import Any

from joule.domain.command.translate import Payload, Request
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

# The one purpose that was renamed in 2.x; the others keep their 1.6 names.
_PURPOSE_TO_V2X = {"ChargePointMaxProfile": "ChargingStationMaxProfile"}
_PURPOSE_TO_V16 = {v: k for k, v in _PURPOSE_TO_V2X.items()}
_PURPOSE_NOT_V16 = frozenset({"ChargingStationExternalConstraints"})  # 2.x only (K11)
UNITS = frozenset({"A", "W"})


def _purpose(version: OcppVersion, purpose: str) -> str:
    if version is OcppVersion.V16:
        if purpose in _PURPOSE_NOT_V16:
            raise Invalid(f"{purpose} does not exist in OCPP 1.6")
        return _PURPOSE_TO_V16.get(purpose, purpose)
    return _PURPOSE_TO_V2X.get(purpose, purpose)


def set_profile_request(version: OcppVersion, *, evse_id: int, profile: dict[str, Any]) -> Request:
    """SetChargingProfile on an EVSE (1.6 connector; 0 = the whole station)."""
    if version is OcppVersion.V16:
        return Request(
            "SetChargingProfile", {"connectorId": evse_id, "csChargingProfiles": profile}
        )
    return Request("SetChargingProfile", {"evseId": evse_id, "chargingProfile": profile})


def clear_profile_request(
    version: OcppVersion,
    *,
    profile_id: int | None,
    evse_id: int | None,
    purpose: str | None,
    stack_level: int | None,
) -> Request:
    """ClearChargingProfile by id and/or by EVSE, purpose and stack level (nothing: all)."""
    translated = _purpose(version, purpose) if purpose is not None else None
    if version is OcppVersion.V16:
        payload: Payload = {}
        for name, value in (
            ("id", profile_id),
            ("connectorId", evse_id),
            ("chargingProfilePurpose", translated),
            ("stackLevel", stack_level),
        ):
            if value is not None:
                payload[name] = value
        return Request("ClearChargingProfile", payload)
    criteria: Payload = {}
    for name, value in (
        ("evseId", evse_id),
        ("chargingProfilePurpose", translated),
        ("stackLevel", stack_level),
    ):
        if value is not None:
            criteria[name] = value
    payload = {}
    if profile_id is not None:
        payload["chargingProfileId"] = profile_id
    if criteria:
        payload["chargingProfileCriteria"] = criteria
    return Request("ClearChargingProfile", payload)


def composite_schedule_request(
    version: OcppVersion, *, evse_id: int, duration: int, unit: str | None
) -> Request:
    """GetCompositeSchedule of an EVSE (0: the station) for `duration` seconds."""
    if unit is not None and unit not in UNITS:
        raise Invalid(f"unknown charging rate unit {unit!r} (A or W)")
    payload: Payload = {"duration": duration}
    payload["connectorId" if version is OcppVersion.V16 else "evseId"] = evse_id
    if unit is not None:
        payload["chargingRateUnit"] = unit
    return Request("GetCompositeSchedule", payload)
