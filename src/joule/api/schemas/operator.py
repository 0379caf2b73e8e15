"""Operator and access-token schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime

RoleName = Literal["admin", "operator", "viewer"]


GrantRole = Literal["operator", "viewer"]


class SiteGrantBody(BaseModel):
    """A role on one site beyond the operator's organisation (docs/roles.md)."""

    model_config = ConfigDict(extra="forbid")

    site_id: str = Field(max_length=64)
    role: GrantRole


class OperatorCreate(BaseModel):
    """A new operator; without organisation_id it joins the admin's own organisation."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(description="at least 8 characters", max_length=1024)
    role: RoleName
    organisation_id: str | None = Field(default=None, max_length=64)
    site_grants: list[SiteGrantBody] = Field(default_factory=list, max_length=500)


class OperatorUpdate(Patch):
    """Change an operator's role, activity (false = signed out at once) or site grants."""

    not_null = ("role", "active", "site_grants")

    role: RoleName | None = None
    active: bool | None = None
    site_grants: list[SiteGrantBody] | None = Field(default=None, max_length=500)


class OperatorRead(ReadModel):
    """An operator (never its password hash)."""

    id: int
    email: str
    role: str
    active: bool
    organisation_id: str | None = None
    site_grants: list[SiteGrantBody] = Field(default_factory=list)
    created_at: UtcDatetime


class PasswordChange(BaseModel):
    """Change one's own password."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: str = Field(description="at least 8 characters", max_length=1024)


class PasswordResetRequest(BaseModel):
    """Ask for a reset token for this e-mail address."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)


class PasswordResetIssued(BaseModel):
    """The answer to a reset request; `token` only when an admin asked for another operator."""

    detail: str
    token: str | None = None
    expires_at: UtcDatetime | None = None


class PasswordResetConfirm(BaseModel):
    """Set a new password with a reset token."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)
    new_password: str = Field(description="at least 8 characters", max_length=1024)


class AccessToken(BaseModel):
    """An OAuth2 bearer token (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
