"""Pure rules of driver logins: the throttle that locks an account after repeated failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Five wrong passwords lock the account for fifteen minutes (OWASP ASVS 2.2.1: anti-automation).
# The same numbers as operators, so a driver's card portal is no weaker door than the dashboard.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
ACTIVE = "Active"


@dataclass(frozen=True, slots=True)
class Throttle:
    """A login account's failure counter and lock, as stored."""

    failed_logins: int
    locked_until: datetime | None


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Joule stores is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def is_locked(throttle: Throttle, now: datetime) -> bool:
    """True while a lock is in force: the password is not even checked."""
    return throttle.locked_until is not None and _aware(throttle.locked_until) > _aware(now)


def after_failure(throttle: Throttle, now: datetime) -> Throttle:
    """The throttle after a wrong password: the failure counted, locked at the limit."""
    failed = throttle.failed_logins + 1
    if failed >= MAX_FAILED_LOGINS:
        # The counter restarts so the account gets a fresh five tries once the lock ends.
        return Throttle(failed_logins=0, locked_until=now + LOCK_DURATION)
    return Throttle(failed_logins=failed, locked_until=throttle.locked_until)


def after_success() -> Throttle:
    """A correct password clears the counter and any expired lock."""
    return Throttle(failed_logins=0, locked_until=None)
