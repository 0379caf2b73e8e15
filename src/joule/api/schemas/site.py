"""Site schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import ReadModel, UtcDatetime


class SiteCreate(BaseModel):
    """A new site."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", description="IANA zone of tariffs and reports")
    organisation_id: str | None = Field(
        default=None, max_length=64, description="owner (default: the caller's organisation)"
    )


class SiteRead(ReadModel):
    """A site."""

    id: str
    name: str
    timezone: str
    organisation_id: str | None = None
    created_at: UtcDatetime
