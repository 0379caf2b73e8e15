"""Site schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import ReadModel, UtcDatetime

# WGS 84 degrees; the map and the charge-point location feeds (OCPI) read them as such.
Latitude = Field(default=None, ge=-90, le=90, description="WGS 84 degrees, -90 … 90")
Longitude = Field(default=None, ge=-180, le=180, description="WGS 84 degrees, -180 … 180")
Address = Field(default=None, min_length=1, max_length=500, description="postal address")


class SiteCreate(BaseModel):
    """A new site."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", description="IANA zone of tariffs and reports")
    organisation_id: str | None = Field(
        default=None, max_length=64, description="owner (default: the caller's organisation)"
    )
    latitude: float | None = Latitude
    longitude: float | None = Longitude
    address: str | None = Address


class SiteUpdate(BaseModel):
    """Changes to a site; only the fields sent change (null clears latitude, longitude,
    address)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, description="IANA zone of tariffs and reports")
    organisation_id: str | None = Field(
        default=None, max_length=64, description="new owner, inside the caller's subtree"
    )
    latitude: float | None = Latitude
    longitude: float | None = Longitude
    address: str | None = Address

    def changes(self) -> dict[str, Any]:
        """The fields the request sent, by name (a sent null is kept: it clears the field)."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class SiteRead(ReadModel):
    """A site."""

    id: str
    name: str
    timezone: str
    organisation_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    created_at: UtcDatetime
