"""Pure rules of driver logins: the per-account lock, with the operators' numbers.

A driver's card portal is no weaker door than the dashboard: the same MAX_FAILURES wrong passwords
in a row lock the account for LOCK_FOR (OWASP ASVS 2.2.1), see domain/operator/login.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from joule.domain.operator.login import LOCK_FOR, MAX_FAILURES

ACTIVE = "Active"


@dataclass(frozen=True, slots=True)
class Throttle:
    """A login account's failure counter and lock, as stored."""

    failed_logins: int
    locked_until: datetime | None


def aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Joule stores is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def locked_for_s(throttle: Throttle, now: datetime) -> int | None:
    """Whole seconds (at least 1) the lock still holds, or None when the account is open."""
    if throttle.locked_until is None:
        return None
    left = (aware(throttle.locked_until) - aware(now)).total_seconds()
    return max(1, math.ceil(left)) if left > 0 else None


def after_failure(throttle: Throttle, now: datetime) -> Throttle:
    """The throttle after a wrong password: the failure counted, locked at the limit."""
    failed = throttle.failed_logins + 1
    if failed >= MAX_FAILURES:
        # The counter restarts so the account gets a fresh set of tries once the lock ends.
        return Throttle(failed_logins=0, locked_until=now + LOCK_FOR)
    return Throttle(failed_logins=failed, locked_until=throttle.locked_until)


def after_success() -> Throttle:
    """A correct password clears the counter and any expired lock."""
    return Throttle(failed_logins=0, locked_until=None)
