"""SQL for API keys: integrations' credentials, looked up by their public prefix. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import ApiKey
from joule.storage.repositories.listing import page


async def get_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    """The key with this public prefix, or None."""
    return await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


async def get_key(session: AsyncSession, key_id: int) -> ApiKey | None:
    """The key with this id, or None."""
    return await session.get(ApiKey, key_id)


async def add_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    """Insert a key and flush so its id is known."""
    session.add(key)
    await session.flush()
    return key


async def list_keys(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None = None,
    limit: int,
    offset: int,
) -> tuple[list[ApiKey], int]:
    """A page of keys ordered by id (revoked ones too: the list is also their history)."""
    query = select(ApiKey).where(visible if visible is not None else true()).order_by(ApiKey.id)
    return await page(session, query, limit=limit, offset=offset)


async def touch(session: AsyncSession, key_id: int, at: datetime) -> None:
    """Record that the key was used at `at`."""
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
