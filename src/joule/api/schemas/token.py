"""Id token schemas: the id tags (1.6) / id tokens (2.x) that stations present."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime

TokenStatusName = Literal["Accepted", "Blocked", "Expired", "Invalid"]
TokenTypeName = Literal[
    "Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization"
]


class IdTokenCreate(BaseModel):
    """A new id token."""

    model_config = ConfigDict(extra="forbid")

    uid: str = Field(min_length=1, max_length=255)
    status: TokenStatusName = "Accepted"
    type: TokenTypeName = "ISO14443"
    expiry: AwareDatetime | None = None
    group_id: str | None = Field(default=None, max_length=255, description="1.6 parentIdTag")
    max_concurrent: int = Field(default=1, ge=1, description="active transactions at once")
    organisation_id: str | None = Field(
        default=None, max_length=64, description="owner (default: the caller's organisation)"
    )
    driver_id: int | None = None


class IdTokenUpdate(Patch):
    """Changes to an id token; fields left out stay as they are, null clears expiry or group."""

    not_null = ("status", "type", "max_concurrent")

    status: TokenStatusName | None = None
    type: TokenTypeName | None = None
    expiry: AwareDatetime | None = None
    group_id: str | None = Field(default=None, max_length=255)
    max_concurrent: int | None = Field(default=None, ge=1)
    organisation_id: str | None = Field(default=None, max_length=64)
    driver_id: int | None = None


class IdTokenRead(ReadModel):
    """An id token."""

    uid: str
    type: str
    status: str
    expiry: UtcDatetime | None
    group_id: str | None
    max_concurrent: int
    organisation_id: str | None
    driver_id: int | None
    created_at: UtcDatetime
