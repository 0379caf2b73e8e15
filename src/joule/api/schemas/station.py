"""Station schemas: StationCreate, StationUpdate, StationRead and the station's histories."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime
from joule.domain.registry.stations import StationView

RegistrationName = Literal["accepted", "pending", "rejected"]


class StationCreate(BaseModel):
    """A station to register; the password is stored as an Argon2id hash only."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="the station identity: 1–48 characters, no ':'")
    password: str | None = Field(default=None, description="HTTP Basic password, 16–40 chars")
    site_id: str | None = None
    organisation_id: str | None = Field(
        default=None,
        max_length=64,
        description="owner when the station has no site (default: the caller's organisation)",
    )
    security_profile: int | None = Field(
        default=None, description="0–3; default 1 with a password, else 0"
    )
    registration: RegistrationName = "accepted"
    timezone: str | None = Field(default=None, description="IANA zone for offset-less times")
    assume_subprotocol: str | None = Field(
        default=None, description="subprotocol assumed when the station offers none"
    )
    lenient: bool | None = Field(default=None, description="strip unknown properties")


class StationUpdate(Patch):
    """Changes to a station; never password_hash or min_security_profile (scenario 39d)."""

    not_null = ("registration", "security_profile")

    registration: RegistrationName | None = None
    password: str | None = Field(default=None, description="new password; null removes it")
    security_profile: int | None = None
    site_id: str | None = None
    timezone: str | None = None
    assume_subprotocol: str | None = None
    lenient: bool | None = None


class ConnectorRead(ReadModel):
    """A connector and its current status (1.6 connector N is EVSE N, connector 1)."""

    evse_id: int
    connector_id: int
    status: str | None
    error_code: str | None
    info: str | None
    status_at: UtcDatetime | None


class StationRead(ReadModel):
    """A station as operators see it (contract shape plus registry fields)."""

    id: str
    online: bool
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    last_seen: UtcDatetime | None
    registration: str
    boot_status: str | None
    security_profile: int
    min_security_profile: int
    has_password: bool
    status: str | None = Field(description="connector 0: the station as a whole")
    error_code: str | None
    clock_skew_s: float | None = Field(
        default=None,
        description="station clock minus CSMS clock in seconds, from its live timestamps "
        "(scenario 45): subtract it to correct the station's times for display",
    )
    site_id: str | None
    timezone: str | None
    assume_subprotocol: str | None
    lenient: bool | None
    quirks: dict[str, Any]
    created_at: UtcDatetime
    connectors: list[ConnectorRead]

    @classmethod
    def of(cls, view: StationView) -> StationRead:
        """The read model of a station view."""
        station = view.station
        return cls.model_validate(
            {
                **{
                    name: getattr(station, name)
                    for name in cls.model_fields
                    if name not in ("has_password", "connectors", "quirks")
                },
                "has_password": station.password_hash is not None,
                "quirks": station.quirks or {},
                "connectors": [ConnectorRead.model_validate(c) for c in view.connectors],
            }
        )


class MessageRead(ReadModel):
    """One OCPP frame of the station's message log."""

    id: int
    direction: str = Field(description="in (from the station) or out (to the station)")
    message_type: int = Field(description="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    message_id: str
    action: str | None
    frame: str
    at: UtcDatetime


class SecurityEventRead(ReadModel):
    """A SecurityEventNotification the station sent (A04)."""

    id: int
    type: str
    timestamp: UtcDatetime
    tech_info: str | None
    critical: bool
    received_at: UtcDatetime


class StatusIntervalRead(ReadModel):
    """A connector status held from started_at until ended_at (null: still holds)."""

    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None


class BootRead(ReadModel):
    """A BootNotification and Joule's answer."""

    id: int
    at: UtcDatetime
    reason: str | None
    status: str
    payload: dict[str, Any]


class DataTransferRead(ReadModel):
    """A DataTransfer exchange with the station; `data` is kept size-capped (scenario 25)."""

    id: int
    direction: str = Field(description="in (from the station) or out (to the station)")
    vendor_id: str
    message_id: str | None
    data: str | None = Field(description="the data as text, cut to 64 KiB of UTF-8")
    status: str | None
    at: UtcDatetime
