"""Pure rules for registering stations and id tokens (identity, passwords, security profiles)."""

from __future__ import annotations

from enum import Enum, StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from joule.kit.errors import Conflict, Invalid
from joule.ocpp.versions import OcppVersion

MAX_STATION_ID_LENGTH = 48  # P4 §3.1.1: the identity is at most 48 characters
MIN_STATION_PASSWORD = 16  # P2 A00.FR.205: BasicAuthPassword at least 16 characters
MAX_STATION_PASSWORD = 40  # the smallest maxLimit a station must support (A00.FR.205)
SECURITY_PROFILES = (0, 1, 2, 3)
MAX_TOKEN_UID_LENGTH = 255  # 2.1 IdTokenType.idToken; 2.0.1 allows 36, 1.6 idTag 20


class Unset(Enum):
    """Marks a field a change leaves alone (distinct from None, which clears it)."""

    UNSET = "unset"


UNSET = Unset.UNSET


class Registration(StrEnum):
    """Whether a station may operate: approved, awaiting an operator, or refused (B02, B03)."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"


class TokenStatus(StrEnum):
    """The status the CSMS answers for an id token (1.6 / 2.x AuthorizationStatus)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class TokenType(StrEnum):
    """The kind of id token (2.0.1 IdTokenEnumType)."""

    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


def check_station_id(station_id: str) -> None:
    """Raise Invalid unless the id can be a station identity."""
    if not station_id:
        raise Invalid("a station id must not be empty")
    if len(station_id) > MAX_STATION_ID_LENGTH:
        raise Invalid(f"a station id has at most {MAX_STATION_ID_LENGTH} characters")
    if ":" in station_id:
        # P4 §3.1.1 / J16 §6.2.2: ':' separates user and password in HTTP Basic auth.
        raise Invalid("a station id must not contain ':'")
    if "/" in station_id:
        # The identity is the last URL path segment; a '/' would make it two segments.
        raise Invalid("a station id must not contain '/'")
    if any(not ch.isprintable() for ch in station_id):
        raise Invalid("a station id must not contain control characters")


def check_station_password(password: str) -> None:
    """Raise Invalid unless the password fits Basic auth (16–40 printable characters)."""
    if not MIN_STATION_PASSWORD <= len(password) <= MAX_STATION_PASSWORD:
        raise Invalid(
            f"a station password has {MIN_STATION_PASSWORD} to {MAX_STATION_PASSWORD} characters"
        )
    if any(not ch.isprintable() for ch in password):
        raise Invalid("a station password must not contain control characters")


def default_security_profile(has_password: bool) -> int:
    """Profile 1 (Basic auth) when a password is set, else 0 (no auth, labs only)."""
    return 1 if has_password else 0


def check_security_profile(profile: int, *, has_password: bool, minimum: int = 0) -> None:
    """Raise unless the station can connect with this profile."""
    if profile not in SECURITY_PROFILES:
        raise Invalid(f"security profile {profile} does not exist (0 to 3)")
    if profile in (1, 2) and not has_password:
        # SP1/SP2 authenticate with HTTP Basic on every connect (A00.FR.203).
        raise Invalid(f"security profile {profile} needs a password")
    if profile < minimum:
        # A00.FR.002 / A05.FR.07: after a station used a higher profile, never allow a lower one.
        raise Conflict(
            f"security profile {profile} is below {minimum}, which the station already used"
        )


def check_timezone(timezone: str) -> None:
    """Raise Invalid unless this is an IANA time zone name (Q7)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "America"
        raise Invalid(f"{timezone!r} is not an IANA time zone") from None


def check_subprotocol(subprotocol: str) -> None:
    """Raise Invalid unless Joule speaks this WebSocket subprotocol (Q1)."""
    if OcppVersion.from_subprotocol(subprotocol) is None:
        known = ", ".join(v.subprotocol for v in OcppVersion)
        raise Invalid(f"unknown subprotocol {subprotocol!r} (one of {known})")


def check_token_uid(uid: str) -> None:
    """Raise Invalid unless the uid can be an id token."""
    if not uid or len(uid) > MAX_TOKEN_UID_LENGTH:
        raise Invalid(f"an id token uid has 1 to {MAX_TOKEN_UID_LENGTH} characters")
    if any(not ch.isprintable() for ch in uid):
        raise Invalid("an id token uid must not contain control characters")
