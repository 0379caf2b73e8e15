"""SQL for organisations. Never commits."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.errors import Conflict
from joule.storage.models import Organisation
from joule.storage.repositories.listing import page


async def get_organisation(session: AsyncSession, organisation_id: str) -> Organisation | None:
    """The organisation with this id, or None."""
    return await session.get(Organisation, organisation_id)


async def add_organisation(session: AsyncSession, organisation: Organisation) -> Organisation:
    """Insert an organisation; a taken id raises Conflict."""
    session.add(organisation)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"organisation {organisation.id} already exists") from exc
    return organisation


async def list_organisations(
    session: AsyncSession, *, visible: ColumnElement[bool] | None = None, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    """A page of organisations ordered by id."""
    query = (
        select(Organisation)
        .where(visible if visible is not None else true())
        .order_by(Organisation.id)
    )
    return await page(session, query, limit=limit, offset=offset)
