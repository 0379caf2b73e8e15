"""Login throttling: per account (lock after repeated failures) and per client address (backoff).

Per account (OWASP ASVS 2.2.1): MAX_FAILURES wrong passwords in a row lock the account for
LOCK_FOR; while locked even the right password is refused with 429 and Retry-After, and a
successful login resets the count. The state lives in the operators table, so every worker
process and node agrees. Per address: after FREE_FAILURES failures an address waits 1, 2, 4 …
seconds (at most MAX_DELAY) before its next attempt, whatever account it tries, which slows
password spraying across many accounts. That state is per process: an attacker spread over N
workers gets N times the budget, still exponentially bounded.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.operator.rules import normalise_email
from joule.domain.operator.service import _verify_dummy
from joule.kit.errors import Invalid
from joule.kit.passwords import verify_password
from joule.storage.models import Operator
from joule.storage.repositories import operator as operators

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
FREE_FAILURES = 10  # failures an address may make before it has to wait
MAX_DELAY_S = 15 * 60
FORGET_AFTER = timedelta(hours=1)  # an address quiet this long starts afresh
MAX_TRACKED = 100_000  # bounded memory under a flood from many addresses


def _aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:  # SQLite hands back naive UTC
        return at.replace(tzinfo=UTC)
    return at


def seconds_until(later: datetime, now: datetime) -> int:
    """Whole seconds (at least 1) until `later`: a Retry-After value (RFC 9110 §10.2.3)."""
    return max(1, math.ceil((later - now).total_seconds()))


@dataclass(slots=True)
class _Address:
    failures: int
    last_failure: datetime


class AddressThrottle:
    """Exponential backoff per client address after FREE_FAILURES failed logins."""

    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        max_delay_s: int = MAX_DELAY_S,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self._free = free_failures
        self._max_delay = max_delay_s
        self._max_tracked = max_tracked
        self._seen: OrderedDict[str, _Address] = OrderedDict()

    def _delay(self, failures: int) -> timedelta:
        over = failures - self._free
        if over < 0:
            return timedelta(0)
        return timedelta(seconds=min(self._max_delay, 2 ** min(over, 30)))

    def retry_after(self, address: str, now: datetime) -> int | None:
        """Seconds the address must still wait, or None when it may try now."""
        seen = self._seen.get(address)
        if seen is None:
            return None
        if now - seen.last_failure >= FORGET_AFTER:
            del self._seen[address]
            return None
        allowed_at = seen.last_failure + self._delay(seen.failures)
        return seconds_until(allowed_at, now) if now < allowed_at else None

    def failed(self, address: str, now: datetime) -> None:
        """Count a failed login from the address."""
        seen = self._seen.pop(address, None)
        failures = (
            1 if seen is None or now - seen.last_failure >= FORGET_AFTER else seen.failures + 1
        )
        self._seen[address] = _Address(failures=failures, last_failure=now)
        while len(self._seen) > self._max_tracked:
            self._seen.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """A successful login from the address clears its record."""
        self._seen.pop(address, None)


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """The result of checking credentials: the operator, or why not."""

    operator: Operator | None
    known_operator_id: int | None = None  # a wrong password for a known account: count it
    locked_for_s: int | None = None  # the account is locked: 429 with this Retry-After


async def check_credentials(
    session: AsyncSession, email: str, password: str, *, now: datetime
) -> LoginCheck:
    """Check e-mail and password; a locked account is refused before any password check."""
    try:
        canonical: str | None = normalise_email(email)
    except Invalid:
        canonical = None
    operator = await operators.get_operator_by_email(session, canonical) if canonical else None
    if operator is None or not operator.active:
        # Same Argon2 cost as a real check: timing does not reveal which addresses exist.
        await asyncio.to_thread(_verify_dummy, password)
        return LoginCheck(operator=None)
    locked_until = _aware(operator.locked_until)
    if locked_until is not None and now < locked_until:
        return LoginCheck(operator=None, locked_for_s=seconds_until(locked_until, now))
    if not await asyncio.to_thread(verify_password, operator.password_hash, password):
        return LoginCheck(operator=None, known_operator_id=operator.id)
    return LoginCheck(operator=operator)


async def record_failure(session: AsyncSession, operator_id: int, *, now: datetime) -> None:
    """Count a wrong password; the MAX_FAILURES-th locks the account for LOCK_FOR."""
    await operators.record_failed_login(
        session, operator_id, max_failures=MAX_FAILURES, locked_until=now + LOCK_FOR
    )


async def record_success(session: AsyncSession, operator_id: int) -> None:
    """Reset the failure count and any expired lock after a successful login."""
    await operators.clear_failed_logins(session, operator_id)
