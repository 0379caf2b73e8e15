"""Bearer tokens: HS256 JWTs with expiry; operators' (subject = operator id, role claim, no
audience) and, through sign/verify, drivers' (audience joule-driver)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "joule"


class InvalidToken(Exception):
    """The bearer token is malformed, forged, expired or of another issuer."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid bearer token says."""

    operator_id: int
    role: str
    expires_at: datetime
    issued_at: datetime  # compared with the operator's password_changed_at (session expiry)


@dataclass(frozen=True, slots=True)
class Verified:
    """The checked registered claims of a token, and all its claims."""

    subject_id: int
    issued_at: datetime
    expires_at: datetime
    claims: dict[str, Any]


def sign(
    subject_id: int,
    *,
    secret: str,
    now: datetime,
    ttl_s: int,
    audience: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A signed HS256 token: issuer joule, subject = an id, optional audience and claims."""
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(subject_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
        **(extra or {}),
    }
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, now: datetime, audience: str | None = None) -> Verified:
    """The claims of a token signed with our secret, for this audience, still valid at `now`.

    Operator tokens carry no audience; drivers' carry joule-driver: a token of one kind never
    passes for the other. InvalidToken otherwise.
    """
    required = ["exp", "iat", "sub", "iss"] + (["aud"] if audience is not None else [])
    try:
        # Only HS256 is accepted: "alg": "none" and algorithm confusion fail here (scenario 39a).
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=audience,
            # Time claims are checked below against the injected clock, not the machine's.
            options={
                "require": required,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if audience is None and "aud" in claims:
        # Audience-bound tokens (drivers' joule-driver) are someone else's: never an operator's.
        raise InvalidToken("a token for another audience")
    exp, iat, sub = claims.get("exp"), claims.get("iat"), claims.get("sub")
    if not isinstance(exp, int) or not isinstance(iat, int) or not isinstance(sub, str):
        raise InvalidToken("malformed claims")
    if not sub.isdigit():
        raise InvalidToken("malformed subject")
    if now.timestamp() >= exp:
        raise InvalidToken("token expired")
    return Verified(
        subject_id=int(sub),
        issued_at=datetime.fromtimestamp(iat, tz=UTC),
        expires_at=datetime.fromtimestamp(exp, tz=UTC),
        claims=claims,
    )


def issue_token(
    *, operator_id: int, role: str, secret: str, now: datetime, ttl_s: int
) -> tuple[str, int]:
    """A signed operator access token and its lifetime in seconds."""
    token = sign(operator_id, secret=secret, now=now, ttl_s=ttl_s, extra={"role": role})
    return token, ttl_s


def read_token(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """The claims of an operator token signed with our secret and still valid at `now`."""
    verified = verify(token, secret=secret, now=now)
    role = verified.claims.get("role")
    if not isinstance(role, str):
        raise InvalidToken("malformed claims")
    return TokenClaims(
        operator_id=verified.subject_id,
        role=role,
        expires_at=verified.expires_at,
        issued_at=verified.issued_at,
    )
