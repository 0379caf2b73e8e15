"""The station's installed charging profiles: read from 1.6 / 2.x payloads, install, clear.

Install rules a station enforces (1.6 §5.16 SetChargingProfile; 2.0.1 K01, as summarised in
energy.md §2.1): ChargePointMax / ChargingStationMax only on EVSE 0; a Tx profile only on an EVSE
with a running transaction (K01.FR.09) and bound to it; the first period starts at 0 (K01.FR.31)
and periods ascend (K01.FR.35). A profile with the same id, or the same purpose and stack level
on the same EVSE, replaces the installed one (1.6 §5.16, K01.FR.05).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from joule.ocpp.timestamps import parse_timestamp
from joule.simulator.schedule import ChargingProfile, Period, Purpose

Payload = dict[str, Any]

_PURPOSES = {
    "ChargePointMaxProfile": Purpose.STATION_MAX,
    "ChargingStationMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
    "ChargingStationExternalConstraints": Purpose.EXTERNAL,
}
V2X_PURPOSE_NAMES = {
    Purpose.STATION_MAX: "ChargingStationMaxProfile",
    Purpose.TX_DEFAULT: "TxDefaultProfile",
    Purpose.TX: "TxProfile",
    Purpose.EXTERNAL: "ChargingStationExternalConstraints",
}


class ProfileRejected(Exception):
    """The station refuses this profile; the message says why (for logs)."""


def _time(value: object) -> datetime | None:
    return parse_timestamp(value).at if isinstance(value, str) else None


def _periods(raw: list[Payload]) -> tuple[Period, ...]:
    periods = tuple(
        Period(
            start_s=int(p["startPeriod"]),
            limit=Decimal(str(p["limit"])) if p.get("limit") is not None else None,
            phases=p.get("numberPhases"),
        )
        for p in raw
    )
    if not periods or periods[0].start_s != 0:
        raise ProfileRejected("the first period must start at 0 (K01.FR.31)")
    starts = [p.start_s for p in periods]
    if starts != sorted(set(starts)):
        raise ProfileRejected("periods must ascend (K01.FR.35)")
    return periods


def _purpose(name: str) -> Purpose:
    purpose = _PURPOSES.get(name)
    if purpose is None:
        raise ProfileRejected(f"purpose {name} is not supported")
    return purpose


def from_v16(payload: Payload, *, connector_id: int, at: datetime) -> ChargingProfile:
    """A 1.6 csChargingProfiles on a connector (1.6 connector N is EVSE N)."""
    schedule = payload["chargingSchedule"]
    tx = payload.get("transactionId")
    return ChargingProfile(
        id=int(payload["chargingProfileId"]),
        stack_level=int(payload["stackLevel"]),
        purpose=_purpose(payload["chargingProfilePurpose"]),
        kind=payload["chargingProfileKind"],
        rate_unit=schedule["chargingRateUnit"],
        periods=_periods(schedule["chargingSchedulePeriod"]),
        evse_id=connector_id,
        start_schedule=_time(schedule.get("startSchedule")),
        duration_s=schedule.get("duration"),
        recurrency=payload.get("recurrencyKind"),
        valid_from=_time(payload.get("validFrom")),
        valid_to=_time(payload.get("validTo")),
        transaction_id=str(tx) if tx is not None else None,
        installed_at=at,
        raw=payload,
    )


def from_v2x(payload: Payload, *, evse_id: int, at: datetime) -> ChargingProfile:
    """A 2.x ChargingProfileType on an EVSE; the first of its schedules is followed."""
    schedules = payload["chargingSchedule"]
    schedule = schedules[0]
    kind = payload["chargingProfileKind"]
    if kind not in ("Absolute", "Recurring", "Relative"):
        raise ProfileRejected(f"profile kind {kind} is not supported")
    return ChargingProfile(
        id=int(payload["id"]),
        stack_level=int(payload["stackLevel"]),
        purpose=_purpose(payload["chargingProfilePurpose"]),
        kind=kind,
        rate_unit=schedule["chargingRateUnit"],
        periods=_periods(schedule["chargingSchedulePeriod"]),
        evse_id=evse_id,
        start_schedule=_time(schedule.get("startSchedule")),
        duration_s=schedule.get("duration"),
        recurrency=payload.get("recurrencyKind"),
        valid_from=_time(payload.get("validFrom")),
        valid_to=_time(payload.get("validTo")),
        transaction_id=payload.get("transactionId"),
        installed_at=at,
        raw=payload,
    )


class ProfileStore:
    """The profiles installed on one station."""

    def __init__(self, *, max_stack_level: int = 8, max_profiles: int = 32) -> None:
        self.max_stack_level = max_stack_level
        self.max_profiles = max_profiles
        self._profiles: list[ChargingProfile] = []

    @property
    def profiles(self) -> tuple[ChargingProfile, ...]:
        """Every installed profile."""
        return tuple(self._profiles)

    def install(
        self,
        profile: ChargingProfile,
        *,
        evse_count: int,
        active_transaction: Callable[[int], str | None],
    ) -> ChargingProfile:
        """Install (or replace) a profile; raise ProfileRejected when the station refuses it."""
        if not 0 <= profile.stack_level <= self.max_stack_level:
            raise ProfileRejected(f"stack level {profile.stack_level} is out of range")
        if not 0 <= profile.evse_id <= evse_count:
            raise ProfileRejected(f"EVSE {profile.evse_id} does not exist")
        if profile.purpose is Purpose.STATION_MAX and profile.evse_id != 0:
            raise ProfileRejected("a station maximum profile belongs on EVSE 0")
        if profile.purpose is Purpose.TX:
            running = active_transaction(profile.evse_id) if profile.evse_id > 0 else None
            if running is None:
                raise ProfileRejected("a TxProfile needs a running transaction (K01.FR.09)")
            if profile.transaction_id is not None and profile.transaction_id != running:
                raise ProfileRejected("the TxProfile names another transaction")
            profile = replace(profile, transaction_id=running)
        kept = [p for p in self._profiles if not _replaced_by(p, profile)]
        if len(kept) >= self.max_profiles:
            raise ProfileRejected("no room for another profile")
        self._profiles = [*kept, profile]
        return profile

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove profiles matching every given criterion; return how many were removed."""

        def matches(p: ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse_id is None or p.evse_id == evse_id)
                and (purpose is None or p.purpose is purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self._profiles)
        self._profiles = [p for p in self._profiles if not matches(p)]
        return before - len(self._profiles)

    def end_transaction(self, transaction_id: str) -> None:
        """A TxProfile lives only as long as its transaction: drop it when that ends."""
        self._profiles = [p for p in self._profiles if p.transaction_id != transaction_id]

    def matching(
        self, *, evse_id: int | None, purpose: Purpose | None, stack_level: int | None
    ) -> list[ChargingProfile]:
        """Installed profiles matching the criteria (2.x GetChargingProfiles)."""
        return [
            p
            for p in self._profiles
            if (evse_id is None or p.evse_id == evse_id)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]


def _replaced_by(old: ChargingProfile, new: ChargingProfile) -> bool:
    if old.id == new.id:
        return True
    return (
        old.evse_id == new.evse_id
        and old.purpose is new.purpose
        and old.stack_level == new.stack_level
        and (new.purpose is not Purpose.TX or old.transaction_id == new.transaction_id)
    )
