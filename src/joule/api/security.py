"""Operator bearer tokens: HS256 JWTs with expiry, subject = operator id, role claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


def issue_token(
    *, operator_id: int, role: str, secret: str, now: datetime, ttl_s: int
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    claims = {
        "iss": ISSUER,
        "sub": str(operator_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_s


def read_token(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """The claims of a token signed with our secret and still valid at `now`."""
    try:
        # Only HS256 is accepted: "alg": "none" and algorithm confusion fail here (scenario 39a).
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Time claims are checked below against the injected clock, not the machine's.
            options={
                "require": ["exp", "iat", "sub", "iss"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if "aud" in claims:
        # Audience-bound tokens (drivers' joule-driver) are someone else's: never an operator's.
        raise InvalidToken("a token for another audience")
    exp, sub, role = claims.get("exp"), claims.get("sub"), claims.get("role")
    iat = claims.get("iat")
    if not isinstance(exp, int) or not isinstance(sub, str) or not isinstance(role, str):
        raise InvalidToken("malformed claims")
    if not isinstance(iat, int):
        raise InvalidToken("malformed claims")
    if not sub.isdigit():
        raise InvalidToken("malformed subject")
    if now.timestamp() >= exp:
        raise InvalidToken("token expired")
    expires_at = datetime.fromtimestamp(exp, tz=UTC)
    issued_at = datetime.fromtimestamp(iat, tz=UTC)
    return TokenClaims(operator_id=int(sub), role=role, expires_at=expires_at, issued_at=issued_at)
