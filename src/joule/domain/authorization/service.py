"""Authorization service: look the token up, count its transactions, let the rules decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.authorization.rules import ACCEPTED, Decision, TokenFacts, decide
from joule.storage.models import IdToken
from joule.storage.repositories import token as tokens


def facts(token: IdToken) -> TokenFacts:
    """The rule-facing view of a stored token."""
    return TokenFacts(
        uid=token.uid,
        type=token.type,
        status=token.status,
        expiry=token.expiry,
        group_id=token.group_id,
        max_concurrent=token.max_concurrent,
    )


async def authorize_token(
    session: AsyncSession,
    token: IdToken | None,
    *,
    now: datetime,
    for_start: bool,
    exclude_tx: int | None,
    presented_type: str | None = None,
) -> Decision:
    """Decide for a token already looked up (None = not on file)."""
    active = 0
    if for_start and token is not None and token.status == ACCEPTED and token.max_concurrent > 0:
        # Only a start can be refused for ConcurrentTx; the count is skipped otherwise.
        active = await tokens.count_active_transactions(session, token.uid, exclude_pk=exclude_tx)
    return decide(
        facts(token) if token is not None else None,
        now=now,
        active_transactions=active,
        for_start=for_start,
        presented_type=presented_type,
    )


async def authorize(
    session: AsyncSession,
    *,
    id_token: str,
    now: datetime,
    for_start: bool,
    exclude_tx: int | None,
    id_token_type: str | None = None,
) -> Decision:
    """Authorize a presented id token (C16 §4.2 Authorize, §4.8 re-verify; P2 C01, E05.FR.01)."""
    token = await tokens.get_token(session, id_token)
    return await authorize_token(
        session,
        token,
        now=now,
        for_start=for_start,
        exclude_tx=exclude_tx,
        presented_type=id_token_type,
    )
