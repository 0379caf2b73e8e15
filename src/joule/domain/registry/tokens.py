"""Id token registry verbs: the id tags (1.6) / id tokens (2.x) that stations present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.registry.rules import UNSET, TokenStatus, TokenType, Unset, check_token_uid
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import IdToken
from joule.storage.repositories import token as tokens


@dataclass(frozen=True, slots=True)
class TokenChanges:
    """Changes to an id token; UNSET fields stay as they are, None clears."""

    status: str | Unset = UNSET
    type: str | Unset = UNSET
    expiry: datetime | Unset | None = UNSET
    group_id: str | Unset | None = UNSET
    max_concurrent: int | Unset = UNSET


def _status(value: str) -> str:
    try:
        return TokenStatus(value).value
    except ValueError:
        allowed = ", ".join(s.value for s in TokenStatus)
        raise Invalid(f"unknown token status {value!r} (one of {allowed})") from None


def _type(value: str) -> str:
    try:
        return TokenType(value).value
    except ValueError:
        allowed = ", ".join(t.value for t in TokenType)
        raise Invalid(f"unknown token type {value!r} (one of {allowed})") from None


def _max_concurrent(value: int) -> int:
    if value < 1:
        raise Invalid("max_concurrent is at least 1")
    return value


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
    """Register an id token; a uid that exists (in any letter case) raises Conflict."""
    check_token_uid(uid)
    return await tokens.create_token(
        session,
        uid=uid,
        type=_type(type),
        status=_status(status),
        expiry=expiry,
        group_id=group_id,
        max_concurrent=_max_concurrent(max_concurrent),
        at=at,
    )


async def get_token(session: AsyncSession, uid: str) -> IdToken:
    """The id token with this uid (letter case ignored, like stations do); NotFound when unknown."""
    token = await tokens.get_token(session, uid)
    if token is None:
        raise NotFound(f"id token {uid} does not exist")
    return token


async def update_token(session: AsyncSession, uid: str, changes: TokenChanges) -> IdToken:
    """Apply changes to an id token."""
    token = await get_token(session, uid)
    if not isinstance(changes.status, Unset):
        token.status = _status(changes.status)
    if not isinstance(changes.type, Unset):
        token.type = _type(changes.type)
    if not isinstance(changes.expiry, Unset):
        token.expiry = changes.expiry
    if not isinstance(changes.group_id, Unset):
        token.group_id = changes.group_id
    if not isinstance(changes.max_concurrent, Unset):
        token.max_concurrent = _max_concurrent(changes.max_concurrent)
    await session.flush()
    return token


async def list_tokens(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[IdToken], int]:
    """A page of id tokens and the total count."""
    return await tokens.list_tokens(session, limit=limit, offset=offset)
