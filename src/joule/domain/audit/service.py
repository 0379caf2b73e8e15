"""Append audit entries in the caller's unit of work: the entry commits with its change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, organisation_condition
from joule.storage.models import AuditEntry
from joule.storage.repositories import audit

# Field names whose values never reach the log, whatever the caller passes (OWASP ASVS 7.1.1).
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "new_password",
        "current_password",
        "secret",
        "key",
        "key_hash",
        "token",
        "token_hash",
        "api_key",
        "authorization_key",
    }
)
REDACTED = "***"
MAX_VALUE_LENGTH = 500


def _clean(value: object) -> Any:
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)  # Decimal and enums as text: JSON has no exact decimal
    return text if len(text) <= MAX_VALUE_LENGTH else text[:MAX_VALUE_LENGTH] + "…"


def redact(changes: Mapping[str, object]) -> dict[str, Any]:
    """The changes as JSON-safe values with every secret field replaced by ***."""
    return {
        str(name): REDACTED if str(name).lower() in SECRET_FIELDS else _clean(value)
        for name, value in changes.items()
    }


def record(
    session: AsyncSession,
    *,
    actor: str | None,
    actor_type: str,
    organisation_id: str | None,
    action: str,
    object_type: str,
    object_id: str | int,
    changes: Mapping[str, object] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it commits (or rolls back) with the change it describes.

    `action` is "<object>.<verb>" (operator.create, token.status, site.update, ...). Secrets in
    `changes` are replaced by *** here, so no caller can leak one by mistake.
    """
    entry = AuditEntry(
        at=at if at is not None else datetime.now(UTC),
        actor=actor,
        actor_type=actor_type,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=redact(changes or {}),
    )
    session.add(entry)
    return entry


async def list_entries(
    session: AsyncSession,
    scope: Scope,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """The entries of the caller's organisations, newest first (root: every entry)."""
    return await audit.list_entries(
        session,
        visible=organisation_condition(scope, AuditEntry.organisation_id),
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
