"""Access group and access rule schemas (issue 5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime, exact
from joule.api.schemas.driver import DriverRead
from joule.api.schemas.token import IdTokenRead

GroupKindName = Literal["public", "employees", "residents", "fleet", "custom"]
AccessModeName = Literal["public", "private", "mixed"]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class GroupCreate(BaseModel):
    """A new access group."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=64, description="default: generated")
    name: str = Field(min_length=1, max_length=200)
    kind: GroupKindName = "custom"
    organisation_id: str | None = Field(default=None, max_length=64)
    id_token_group: str | None = Field(
        default=None, max_length=255, description="shared parentIdTag / groupIdToken of members"
    )
    monthly_energy_budget_wh: Decimal | None = Field(default=None, ge=0)
    pricing_group: str | None = Field(default=None, max_length=64)
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100)


class GroupUpdate(Patch):
    """Changes to a group."""

    not_null = ("name", "kind")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: GroupKindName | None = None
    id_token_group: str | None = Field(default=None, max_length=255)
    monthly_energy_budget_wh: Decimal | None = Field(default=None, ge=0)
    pricing_group: str | None = Field(default=None, max_length=64)
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100)


class GroupRead(ReadModel):
    """An access group; Decimal values as exact strings."""

    id: str
    name: str
    kind: str
    organisation_id: str | None
    id_token_group: str | None
    monthly_energy_budget_wh: Decimal | None
    pricing_group: str | None
    discount_percent: Decimal | None
    created_at: UtcDatetime

    @field_serializer("monthly_energy_budget_wh", "discount_percent")
    def _exact(self, value: Decimal | None) -> str | None:
        return exact(value)


class MemberAdd(BaseModel):
    """Add a driver or a token to a group (exactly one of them)."""

    model_config = ConfigDict(extra="forbid")

    driver_id: int | None = None
    uid: str | None = Field(default=None, min_length=1, max_length=255)


class GroupMembers(BaseModel):
    """A group's members."""

    drivers: list[DriverRead]
    tokens: list[IdTokenRead]
    group_tokens: list[IdTokenRead] = Field(description="tokens sharing the group's id_token_group")


class RuleCreate(BaseModel):
    """A new access rule; a field left out means 'any'."""

    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(default=None, max_length=64)
    station_id: str | None = Field(default=None, max_length=48)
    evse_id: int | None = Field(default=None, ge=1)
    days: list[int] | None = Field(default=None, description="ISO weekdays, 1 = Monday")
    start_time: str | None = Field(default=None, pattern=HHMM, description="HH:MM, site time")
    end_time: str | None = Field(default=None, pattern=HHMM, description="HH:MM, site time")
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class RuleRead(ReadModel):
    """An access rule."""

    id: int
    group_id: str
    site_id: str | None
    station_id: str | None
    evse_id: int | None
    days: list[int] | None
    start_time: str | None
    end_time: str | None
    valid_from: UtcDatetime | None
    valid_until: UtcDatetime | None
    created_at: UtcDatetime


class AccessModeSet(BaseModel):
    """A site's or station's access mode (a station's null = follow its site)."""

    model_config = ConfigDict(extra="forbid")

    access_mode: AccessModeName | None


class AccessModeRead(BaseModel):
    """The access mode now set."""

    id: str
    access_mode: str | None
