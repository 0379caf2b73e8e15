"""Authorization rules: decide what an id token may do, as a pure function (C16 §4.2, P2 C01)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# Stored statuses a token can carry; 2.x statuses beyond 1.6's are kept as stored (P2 C01).
ACCEPTED = "Accepted"
BLOCKED = "Blocked"
EXPIRED = "Expired"
INVALID = "Invalid"
CONCURRENT_TX = "ConcurrentTx"

# Presented token types that are not looked up. NoAuthorization: the station charges without
# identification (free vend, P2 C01 'NoAuthorization'); Central: an id the CSMS generated itself
# for a remote start (P2 F01). Joule's policy is to accept both when they are not on file.
POLICY_ACCEPTED_TYPES = frozenset({"NoAuthorization", "Central"})


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What the CSMS knows about an id token on file."""

    uid: str
    type: str
    status: str
    expiry: datetime | None
    group_id: str | None
    max_concurrent: int  # ≤ 0 = unlimited


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an authorization, version-neutral."""

    status: str
    reason: str
    expiry: datetime | None = None
    group_id: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the token may charge."""
        return self.status == ACCEPTED


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Joule stores is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def decide(
    token: TokenFacts | None,
    *,
    now: datetime,
    active_transactions: int,
    for_start: bool,
    presented_type: str | None = None,
) -> Decision:
    """Decide the authorization status of a presented id token."""
    if token is None:
        if presented_type in POLICY_ACCEPTED_TYPES:
            return Decision(ACCEPTED, f"policy: {presented_type} tokens are accepted")
        return Decision(INVALID, "unknown id token")
    expiry = _aware(token.expiry) if token.expiry is not None else None
    if token.status != ACCEPTED:
        # Blocked / Expired / Invalid (and 2.x NoCredit, NotAtThisTime …) are answered as stored.
        return Decision(token.status, f"stored status {token.status}", expiry, token.group_id)
    if expiry is not None and expiry <= _aware(now):
        return Decision(EXPIRED, "expiry date passed", expiry, token.group_id)
    if for_start and 0 < token.max_concurrent <= active_transactions:
        # C16 §4.2 / P2 C01: ConcurrentTx = already involved in another transaction.
        return Decision(
            CONCURRENT_TX,
            f"{active_transactions} active transaction(s), limit {token.max_concurrent}",
            expiry,
            token.group_id,
        )
    return Decision(ACCEPTED, "accepted", expiry, token.group_id)
