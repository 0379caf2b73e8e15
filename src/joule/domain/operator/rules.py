"""Pure rules for operators: roles, what each role may do, e-mail and password policy."""

from __future__ import annotations

from enum import StrEnum

from joule.kit.errors import Invalid

MIN_PASSWORD_LENGTH = 8
# Argon2 accepts any length; a bound keeps one login from costing unbounded hashing work.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320  # RFC 5321 path limit, the column size


class OperatorRole(StrEnum):
    """What an operator may do: admins manage operators, operators act, viewers only read."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


def may_change(role: str) -> bool:
    """True when the role may change data and send commands to stations (scenario 39b)."""
    return role in (OperatorRole.ADMIN, OperatorRole.OPERATOR)


def may_administer(role: str) -> bool:
    """True when the role may manage operators."""
    return role == OperatorRole.ADMIN


def normalise_email(email: str) -> str:
    """The canonical form of an e-mail address (trimmed, lower case) or Invalid."""
    canonical = email.strip().lower()
    local, at, domain = canonical.partition("@")
    if not at or not local or not domain or len(canonical) > MAX_EMAIL_LENGTH:
        raise Invalid(f"{email!r} is not an e-mail address")
    if any(ch.isspace() for ch in canonical) or "@" in domain:
        raise Invalid(f"{email!r} is not an e-mail address")
    return canonical


def check_password(password: str) -> None:
    """Raise Invalid unless the password fits the operator password policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"an operator password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"an operator password has at most {MAX_PASSWORD_LENGTH} characters")


def parse_role(role: str) -> OperatorRole:
    """The role named by `role`, or Invalid."""
    try:
        return OperatorRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in OperatorRole)
        raise Invalid(f"unknown role {role!r} (one of {allowed})") from None
