"""Command schemas: what operators ask stations to do, and the audit log of it."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from joule.api.schemas.common import ReadModel, UtcDatetime


class CommandBody(BaseModel):
    """Base of command bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class StartCommand(CommandBody):
    """Start a transaction for an id token."""

    uid: str = Field(min_length=1, max_length=255)
    evse_id: int | None = Field(default=None, ge=0, description="1.6: the connectorId")
    connector_id: int | None = Field(default=None, ge=0)


class StopCommand(CommandBody):
    """Stop a transaction, by Joule's transaction id."""

    transaction_id: int


class ResetCommand(CommandBody):
    """Reset the station; 1.6 Hard/Soft and 2.x Immediate/OnIdle are translated both ways."""

    type: str = Field(description="Hard | Soft | Immediate | OnIdle (2.1: ImmediateAndResume)")
    evse_id: int | None = Field(default=None, ge=0, description="2.x only: reset one EVSE")


class UnlockCommand(CommandBody):
    """Unlock a connector."""

    evse_id: int = Field(ge=0, description="1.6: the connectorId")
    connector_id: int | None = Field(default=None, ge=0)


class AvailabilityCommand(CommandBody):
    """Make the station, an EVSE or a connector (in)operative."""

    operative: bool
    evse_id: int | None = Field(default=None, ge=0, description="none: the whole station")
    connector_id: int | None = Field(default=None, ge=0)


class TriggerCommand(CommandBody):
    """Ask the station to send a message now (names translated between versions)."""

    message: str = Field(examples=["StatusNotification", "BootNotification", "MeterValues"])
    evse_id: int | None = Field(default=None, ge=0)
    connector_id: int | None = Field(default=None, ge=0)


class ConfigurationCommand(CommandBody):
    """Set (with a value) or read (without) configuration.

    Set: {"key", "value"} — 1.6 key, 2.x "Component.Variable" — or 2.x
    {"component", "variable", "value"}. Read: {"keys": [...]}, {"component", "variable"}, or
    {} (1.6: every key; 2.x: the core variables).
    """

    key: str | None = None
    value: str | None = None
    keys: list[str] | None = None
    component: str | None = None
    component_instance: str | None = None
    variable: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = Field(default=None, ge=0, description="2.x: the component's EVSE")
    connector_id: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if self.keys is not None and (self.key is not None or self.value is not None):
            raise ValueError("give either keys (to read) or key and value (to set)")
        if (self.component is None) != (self.variable is None):
            raise ValueError("component and variable go together")
        if self.key is not None and self.variable is not None:
            raise ValueError("give either key or component and variable")
        if self.key is not None and self.value is None:
            raise ValueError("key needs a value to set; use keys to read")
        if self.value is not None and self.key is None and self.variable is None:
            raise ValueError("value needs a key, or a component and variable")
        return self


class RawResponse(BaseModel):
    """The station's answer to a raw OCPP request."""

    response: dict[str, Any]


class CommandRecordRead(ReadModel):
    """One command sent (or attempted) to a station, with its outcome."""

    id: int
    operator: str | None
    action: str
    message_id: str | None
    request: dict[str, Any]
    outcome: str = Field(description="answered | callerror | timeout | offline")
    response: dict[str, Any] | None
    at: UtcDatetime
