"""Real-time authorization hook: ask an external system about a token, with a short timeout.

For operators whose drivers live elsewhere (issue 5). Called before the unit of work, so a slow
hook never holds the group commit: the verdict rides into the handler (HandlerContext.prepared).
Tokens not on file are asked about (or every token, JOULE_AUTH_HOOK_ALL). When the hook is slow,
down or answers nonsense, the fallback decides: `local` (Joule's own rules, as if there were no
hook), `accept` or `reject` (Invalid).

Request: POST {uid, type, station_id, evse_id, for_start}; answer: {status, expiry?, group_id?}.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from joule.bus.envelopes import StationCall
from joule.config import Settings
from joule.domain.authorization.rules import ACCEPTED, INVALID, Decision
from joule.domain.dispatcher import BeforeStep
from joule.storage.committer import GroupCommitter
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# The statuses a hook may answer (2.0.1 AuthorizationStatusEnumType; 1.6 maps them down).
HOOK_STATUSES = frozenset(
    {
        "Accepted",
        "Blocked",
        "ConcurrentTx",
        "Expired",
        "Invalid",
        "NoCredit",
        "NotAllowedTypeEVSE",
        "NotAtThisLocation",
        "NotAtThisTime",
        "Unknown",
    }
)


class HookFallback(StrEnum):
    """What decides when the hook cannot."""

    LOCAL = "local"
    ACCEPT = "accept"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Presented:
    """A token a station presents, and where."""

    uid: str
    type: str | None
    evse_id: int | None
    for_start: bool


def presented(call: StationCall) -> Presented | None:
    """The token of an Authorize, a 1.6 StartTransaction or a 2.x TransactionEvent (if any)."""
    payload = call.payload
    if call.version.family == "1.6":
        if call.action == "Authorize":
            return Presented(str(payload["idTag"]), None, None, for_start=False)
        if call.action == "StartTransaction":
            return Presented(str(payload["idTag"]), None, payload.get("connectorId"), True)
        return None
    id_token = payload.get("idToken")
    if call.action == "Authorize" and isinstance(id_token, dict):
        return Presented(str(id_token["idToken"]), id_token.get("type"), None, for_start=False)
    if (
        call.action == "TransactionEvent"
        and isinstance(id_token, dict)
        and payload.get("eventType") != "Ended"
    ):
        evse = payload.get("evse") or {}
        return Presented(str(id_token["idToken"]), id_token.get("type"), evse.get("id"), True)
    return None


def _parse(body: Any) -> Decision:
    if not isinstance(body, dict) or body.get("status") not in HOOK_STATUSES:
        raise ValueError(f"hook answer without a valid status: {str(body)[:200]}")
    expiry = body.get("expiry")
    group_id = body.get("group_id")
    at = datetime.fromisoformat(expiry) if isinstance(expiry, str) else None
    if at is not None and at.tzinfo is None:
        raise ValueError("hook expiry needs a time zone offset")
    return Decision(
        str(body["status"]),
        f"authorization hook: {body['status']}",
        at,
        group_id if isinstance(group_id, str) else None,
    )


class AuthHook:
    """Asks the external system; returns its verdict, the fallback's, or None (decide locally)."""

    def __init__(
        self,
        committer: GroupCommitter,
        *,
        url: str,
        timeout_s: float,
        fallback: HookFallback,
        all_tokens: bool,
    ) -> None:
        self._committer = committer
        self._url = url
        self._timeout_s = timeout_s
        self._fallback = fallback
        self._all_tokens = all_tokens

    async def before(self, call: StationCall) -> Decision | None:
        """The dispatcher's step before the unit of work: a verdict for the handler, or None."""
        token = presented(call)
        if token is None:
            return None
        if not self._all_tokens:

            async def on_file(uow: UnitOfWork) -> bool:
                return await tokens.get_token(uow.session, token.uid) is not None

            if await self._committer.read(on_file):
                return None
        return await self.ask(token, station_id=call.station_id)

    async def ask(self, token: Presented, *, station_id: str) -> Decision | None:
        """POST the token to the hook within the timeout; the fallback when that fails."""
        request = {
            "uid": token.uid,
            "type": token.type,
            "station_id": station_id,
            "evse_id": token.evse_id,
            "for_start": token.for_start,
        }
        try:
            async with asyncio.timeout(self._timeout_s):
                async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                    resp = await client.post(self._url, json=request)
                    resp.raise_for_status()
                    return _parse(resp.json())
        except (TimeoutError, httpx.HTTPError, ValueError) as error:
            log.warning("authorization hook failed, fallback %s: %s", self._fallback.value, error)
            return self._fallback_decision(error)

    def _fallback_decision(self, error: Exception) -> Decision | None:
        why = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
        if self._fallback == HookFallback.ACCEPT:
            return Decision(ACCEPTED, f"authorization hook {why}: fallback accept")
        if self._fallback == HookFallback.REJECT:
            return Decision(INVALID, f"authorization hook {why}: fallback reject")
        return None  # local: Joule's own rules decide


def auth_hook(settings: Settings, committer: GroupCommitter) -> BeforeStep | None:
    """The dispatcher's before-step when JOULE_AUTH_HOOK_URL is set, else None."""
    if not settings.auth_hook_url:
        return None
    hook = AuthHook(
        committer,
        url=settings.auth_hook_url,
        timeout_s=settings.auth_hook_timeout_ms / 1000,
        fallback=HookFallback(settings.auth_hook_fallback),
        all_tokens=settings.auth_hook_all,
    )
    return hook.before
