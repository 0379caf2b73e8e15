"""Organisation, API key and audit schemas (issue 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import Patch, ReadModel, UtcDatetime
from joule.api.schemas.operator import RoleName


class OrganisationCreate(BaseModel):
    """A new organisation; without parent_id it hangs below the caller's own."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=64, description="generated when left out")
    name: str = Field(max_length=200)
    parent_id: str | None = Field(default=None, max_length=64)


class OrganisationUpdate(Patch):
    """Rename or move an organisation."""

    not_null = ("name",)

    name: str | None = Field(default=None, max_length=200)
    parent_id: str | None = Field(default=None, max_length=64)


class OrganisationRead(ReadModel):
    """An organisation."""

    id: str
    name: str
    parent_id: str | None
    created_at: UtcDatetime


class ApiKeyCreate(BaseModel):
    """A new API key: its role and organisation bound what the integration may do."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    role: RoleName
    organisation_id: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = None


class ApiKeyRead(ReadModel):
    """An API key as listed (never its secret or hash)."""

    id: int
    prefix: str
    name: str
    role: str
    organisation_id: str | None
    created_by: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    last_used_at: UtcDatetime | None


class ApiKeyIssued(ApiKeyRead):
    """A new key with its secret: shown this once, never again."""

    key: str = Field(description="jk_<prefix>_<secret>: send as Bearer or X-API-Key")


class AuditRead(ReadModel):
    """One audit entry."""

    id: int
    at: UtcDatetime
    actor: str | None
    actor_type: str
    organisation_id: str | None
    action: str
    object_type: str
    object_id: str
    changes: dict[str, Any]
