"""Driver self-service verbs: log in (throttled), my tokens, my sessions, block my lost card."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.driver_portal.rules import (
    ACTIVE,
    Throttle,
    after_failure,
    after_success,
    aware,
    locked_for_s,
)
from joule.domain.operator.rules import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalise_email
from joule.domain.registry.transactions import TransactionView
from joule.domain.transaction.lifecycle import energy_wh
from joule.kit.errors import Invalid, NotFound
from joule.kit.passwords import hash_password, verify_password
from joule.storage.models import Driver, IdToken, Transaction

BLOCKED = "Blocked"


@cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown or locked, so every refusal costs one Argon2
    # verification and the response time does not tell which addresses exist (OWASP API2).
    return hash_password("joule-no-such-driver")


def _verify_dummy(password: str) -> None:
    verify_password(_dummy_hash(), password)


def check_driver_password(password: str) -> None:
    """Raise Invalid unless the password fits the policy (the operators' lengths)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"a driver password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"a driver password has at most {MAX_PASSWORD_LENGTH} characters")


async def _driver_by_email(session: AsyncSession, email: str) -> Driver | None:
    return await session.scalar(select(Driver).where(func.lower(Driver.email) == email))


async def set_password(
    session: AsyncSession, driver_id: int, password: str, *, now: datetime
) -> Driver:
    """Give a driver a portal password (hashed off the event loop); NotFound when unknown."""
    check_driver_password(password)
    driver = await session.get(Driver, driver_id)
    if driver is None:
        raise NotFound(f"driver {driver_id} does not exist")
    driver.password_hash = await asyncio.to_thread(hash_password, password)
    driver.password_changed_at = now
    driver.failed_logins = 0
    driver.locked_until = None
    return driver


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """The result of checking a driver's credentials: the driver, or why not."""

    driver: Driver | None
    known_driver_id: int | None = None  # a wrong password for a known account: count it
    locked_for_s: int | None = None  # the account is locked: 429 with this Retry-After


async def check_credentials(
    session: AsyncSession, email: str, password: str, *, now: datetime
) -> LoginCheck:
    """Check e-mail and password (a read); a locked account is refused before any password check.

    Unknown addresses, Blocked drivers and drivers without a portal password cost the same
    Argon2 verification, so timing does not tell them apart.
    """
    try:
        canonical = normalise_email(email)
    except Invalid:
        canonical = None
    driver = await _driver_by_email(session, canonical) if canonical else None
    if driver is None or driver.status != ACTIVE or driver.password_hash is None:
        await asyncio.to_thread(_verify_dummy, password)
        return LoginCheck(driver=None)
    locked = locked_for_s(Throttle(driver.failed_logins, driver.locked_until), now)
    if locked is not None:
        return LoginCheck(driver=None, locked_for_s=locked)
    if not await asyncio.to_thread(verify_password, driver.password_hash, password):
        return LoginCheck(driver=None, known_driver_id=driver.id)
    return LoginCheck(driver=driver)


async def record_failure(session: AsyncSession, driver_id: int, *, now: datetime) -> None:
    """Count a wrong password; the limit locks the account (rules.after_failure)."""
    driver = await session.get(Driver, driver_id)
    if driver is None:
        return
    throttle = after_failure(Throttle(driver.failed_logins, driver.locked_until), now)
    driver.failed_logins, driver.locked_until = throttle.failed_logins, throttle.locked_until


async def record_success(session: AsyncSession, driver_id: int) -> None:
    """Reset the failure count and any expired lock after a successful login."""
    driver = await session.get(Driver, driver_id)
    if driver is not None:
        throttle = after_success()
        driver.failed_logins, driver.locked_until = throttle.failed_logins, throttle.locked_until


async def get_active_driver(
    session: AsyncSession, driver_id: int, *, issued_at: datetime
) -> Driver | None:
    """The driver when it exists and may use the portal (checked on every request).

    A session issued before the driver's password last changed is over, as for operators.
    """
    driver = await session.get(Driver, driver_id)
    if driver is None or driver.status != ACTIVE or driver.password_hash is None:
        return None
    changed = driver.password_changed_at
    if changed is not None and issued_at < aware(changed).replace(microsecond=0):
        return None
    return driver


async def tokens_of(session: AsyncSession, driver_id: int) -> list[IdToken]:
    """The driver's own id tokens, by uid."""
    rows = await session.scalars(
        select(IdToken).where(IdToken.driver_id == driver_id).order_by(IdToken.uid)
    )
    return list(rows)


async def sessions_of(
    session: AsyncSession, driver_id: int, *, limit: int, offset: int
) -> tuple[list[TransactionView], int]:
    """The transactions started with the driver's tokens, newest first, with their energy."""
    # Stations present ids in any letter case (1.6 CiString, 2.x idToken): compare lowered.
    uids = select(func.lower(IdToken.uid)).where(IdToken.driver_id == driver_id)
    query = select(Transaction).where(func.lower(Transaction.id_token).in_(uids))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    started = func.coalesce(Transaction.started_at, Transaction.created_at)
    rows = await session.scalars(
        query.order_by(started.desc(), Transaction.id.desc()).limit(limit).offset(offset)
    )
    views = [TransactionView(transaction=tx, energy_wh=energy_wh(tx)) for tx in rows]
    return views, int(total or 0)


async def own_token(session: AsyncSession, driver_id: int, uid: str) -> IdToken:
    """The driver's token with this uid (any letter case); NotFound for anyone else's."""
    token = await session.scalar(
        select(IdToken).where(
            IdToken.driver_id == driver_id, func.lower(IdToken.uid) == uid.lower()
        )
    )
    if token is None:
        # Another driver's token is as unknown as a missing one: no probing of uids.
        raise NotFound(f"you have no id token {uid}")
    return token
