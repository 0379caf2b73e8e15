"""Operator and access-token schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import ReadModel, UtcDatetime

RoleName = Literal["admin", "operator", "viewer"]


class OperatorCreate(BaseModel):
    """A new operator."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(description="at least 8 characters", max_length=1024)
    role: RoleName


class OperatorRead(ReadModel):
    """An operator (never its password hash)."""

    id: int
    email: str
    role: str
    active: bool
    created_at: UtcDatetime


class AccessToken(BaseModel):
    """An OAuth2 bearer token (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
