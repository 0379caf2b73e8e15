"""The audit log, for admins: who changed what, filtered and scoped to their organisations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from joule.api.deps import AdminOperator, Db, PageParams
from joule.api.schemas.common import Page
from joule.api.schemas.organisation import AuditRead
from joule.domain import audit

router = APIRouter(tags=["audit"])


def _utc(at: datetime | None) -> datetime | None:
    # A time without an offset is read as UTC, like every time Joule returns.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


@router.get("/audit")
async def list_audit(
    admin: AdminOperator,
    db: Db,
    page: PageParams,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Page[AuditRead]:
    """Audit entries newest first; `from` inclusive, `to` exclusive (ISO 8601)."""
    scope = admin.scope
    since, until = _utc(since), _utc(until)
    found, total = await db.read(
        lambda s: audit.list_entries(
            s,
            scope,
            object_type=object_type,
            object_id=object_id,
            actor=actor,
            since=since,
            until=until,
            limit=page.limit,
            offset=page.offset,
        )
    )
    items = [AuditRead.model_validate(e) for e in found]
    return Page[AuditRead].of(items, total, limit=page.limit, offset=page.offset)
