"""Id tokens for system code that acts outside any operator's scope (the demo seeding its fleet).

Operators and drivers manage tokens through `joule.domain.driver.tokens` (scoped, audited,
announced with AccessChanged); this module shares its checks and only adds the unscoped verbs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.driver.tokens import check_max_concurrent, check_status, check_type
from joule.domain.registry.rules import TokenStatus, TokenType, check_token_uid
from joule.kit.errors import NotFound
from joule.storage.models import IdToken
from joule.storage.repositories import token as tokens


async def create_token(
    session: AsyncSession,
    *,
    uid: str,
    status: str = TokenStatus.ACCEPTED,
    type: str = TokenType.ISO14443,
    expiry: datetime | None = None,
    group_id: str | None = None,
    max_concurrent: int = 1,
    at: datetime,
) -> IdToken:
    """Register a network-wide id token; a uid that exists (in any letter case) raises Conflict."""
    check_token_uid(uid)
    return await tokens.create_token(
        session,
        uid=uid,
        type=check_type(type),
        status=check_status(status),
        expiry=expiry,
        group_id=group_id,
        max_concurrent=check_max_concurrent(max_concurrent),
        at=at,
    )


async def get_token(session: AsyncSession, uid: str) -> IdToken:
    """The id token with this uid (letter case ignored, like stations do); NotFound when unknown."""
    token = await tokens.get_token(session, uid)
    if token is None:
        raise NotFound(f"id token {uid} does not exist")
    return token
