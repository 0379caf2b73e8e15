"""Id tokens (1.6 idTag, 2.x idToken): lookups and creation. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.errors import Conflict
from joule.storage.models import IdToken, Transaction


async def get_token(session: AsyncSession, uid: str) -> IdToken | None:
    """The token with this uid; ids are case-insensitive (1.6 CiString20, 2.x IdTokenType)."""
    exact = await session.scalar(select(IdToken).where(IdToken.uid == uid))
    if exact is not None:
        return exact
    # The indexed exact match covers nearly every lookup; fall back for a different case only.
    return await session.scalar(
        select(IdToken).where(func.lower(IdToken.uid) == uid.lower()).order_by(IdToken.id).limit(1)
    )


async def create_token(
    session: AsyncSession,
    *,
    uid: str,
    type: str,
    status: str,
    expiry: datetime | None,
    group_id: str | None,
    max_concurrent: int,
    at: datetime,
) -> IdToken:
    """Create a token; raises kit.errors.Conflict when the uid exists (case-insensitively)."""
    if await get_token(session, uid) is not None:
        raise Conflict(f"id token {uid!r} already exists")
    token = IdToken(
        uid=uid,
        type=type,
        status=status,
        expiry=expiry,
        group_id=group_id,
        max_concurrent=max_concurrent,
        created_at=at,
    )
    session.add(token)
    await session.flush()
    return token


async def list_tokens(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[IdToken], int]:
    """One page of tokens ordered by uid, and the total count."""
    total = await session.scalar(select(func.count()).select_from(IdToken))
    rows = await session.scalars(select(IdToken).order_by(IdToken.uid).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def count_active_transactions(
    session: AsyncSession, uid: str, *, exclude_pk: int | None = None
) -> int:
    """Active, non-stale transactions started with this token (for ConcurrentTx, C16 §4.2)."""
    # Stale transactions (the station rebooted, scenario 11) are not counted: they most likely
    # ended without a StopTransaction reaching us and must not lock the driver out.
    query = (
        select(func.count())
        .select_from(Transaction)
        .where(
            Transaction.id_token == uid,
            Transaction.status == "active",
            Transaction.stale.is_(False),
        )
    )
    if exclude_pk is not None:
        query = query.where(Transaction.id != exclude_pk)
    return int(await session.scalar(query) or 0)
