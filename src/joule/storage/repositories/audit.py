"""SQL for the audit log: append-only, read newest first. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import AuditEntry
from joule.storage.repositories.listing import page


async def list_entries(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """A page of entries, newest first, filtered on the given fields."""
    query = select(AuditEntry).where(visible if visible is not None else true())
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return await page(session, query, limit=limit, offset=offset)
