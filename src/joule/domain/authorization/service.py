"""Authorization service: load the facts (token, driver, groups, rules, station), then decide."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.authorization import facts
from joule.domain.authorization.rules import Decision, decide_access
from joule.storage.models import IdToken
from joule.storage.repositories import token as tokens

log = logging.getLogger(__name__)


async def authorize_token(
    session: AsyncSession,
    token: IdToken | None,
    *,
    now: datetime,
    for_start: bool,
    exclude_tx: int | None,
    presented_type: str | None = None,
    station_id: str | None = None,
    evse_id: int | None = None,
    external: Decision | None = None,
) -> Decision:
    """Decide for a token already looked up (None = not on file), at a station when given.

    `external` is the authorization hook's verdict (hook.py), asked before the unit of work: it
    decides instead of the local rules.
    """
    if external is not None:
        _log_refusal(external, station_id, evse_id, token, for_start)
        return external
    loaded = await facts.load(
        session,
        token,
        station_id=station_id,
        evse_id=evse_id,
        now=now,
        for_start=for_start,
        exclude_tx=exclude_tx,
        presented_type=presented_type,
    )
    decision = decide_access(loaded, now=now, for_start=for_start)
    _log_refusal(decision, station_id, evse_id, token, for_start)
    return decision


def _log_refusal(
    decision: Decision,
    station_id: str | None,
    evse_id: int | None,
    token: IdToken | None,
    for_start: bool,
) -> None:
    if not decision.accepted:
        # The precise reason (1.6 can only say Invalid / Blocked) is kept in the log (issue 5).
        log.info(
            "authorization refused",
            extra={
                "station_id": station_id,
                "evse_id": evse_id,
                "id_token": token.uid if token is not None else None,
                "status": decision.status,
                "reason": decision.reason,
                "for_start": for_start,
            },
        )


async def authorize(
    session: AsyncSession,
    *,
    id_token: str,
    now: datetime,
    for_start: bool,
    exclude_tx: int | None,
    id_token_type: str | None = None,
    station_id: str | None = None,
    evse_id: int | None = None,
    external: Decision | None = None,
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
        station_id=station_id,
        evse_id=evse_id,
        external=external,
    )
