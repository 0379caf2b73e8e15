"""Driver schemas: the people behind id tokens (issue 5)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime

DriverStatusName = Literal["Active", "Blocked"]


class DriverCreate(BaseModel):
    """A new driver."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    status: DriverStatusName = "Active"
    organisation_id: str | None = Field(
        default=None, max_length=64, description="owner (default: the caller's organisation)"
    )


class DriverUpdate(Patch):
    """Changes to a driver; fields left out stay as they are."""

    not_null = ("name", "status")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    status: DriverStatusName | None = None
    organisation_id: str | None = Field(default=None, max_length=64)


class DriverRead(ReadModel):
    """A driver (never their password hash)."""

    id: int
    name: str
    email: str | None
    status: str
    organisation_id: str | None
    created_at: UtcDatetime
