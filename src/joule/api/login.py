"""Password login for the API and the dashboard alike: throttled per account and per address."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import Database
from joule.domain.operator import login
from joule.storage.models import Operator


class LoginThrottled(Exception):
    """Too many failed logins: the client must wait `retry_after_s` seconds (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def address_throttle(request: Request) -> login.AddressThrottle:
    """The app's per-address throttle (one per process, shared by API and dashboard)."""
    throttle: login.AddressThrottle | None = getattr(request.app.state, "login_throttle", None)
    if throttle is None:
        throttle = login.AddressThrottle()
        request.app.state.login_throttle = throttle
    return throttle


def client_address(request: Request) -> str:
    """The peer address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the client's)."""
    return request.client.host if request.client is not None else "unknown"


A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Checked(Generic[A]):
    """A credentials check, whoever logs in: the account, or why not."""

    account: A | None
    # The account's id: on a wrong password for a known account (count it) or on success.
    account_id: int | None
    locked_for_s: int | None  # the account is locked: 429 with this Retry-After
    had_failures: bool = False  # a success must clear earlier failures or an expired lock


async def throttled_login(
    request: Request,
    db: Database,
    *,
    now: datetime,
    check: Callable[[AsyncSession], Awaitable[Checked[A]]],
    record_failure: Callable[[AsyncSession, int], Awaitable[None]],
    record_success: Callable[[AsyncSession, int], Awaitable[None]],
) -> A | None:
    """The account the credentials belong to, None when wrong; LoginThrottled when locked.

    One flow for operators and drivers: the per-address backoff is shared by both, so spraying
    passwords over either kind of account slows down the same way; the per-account lock is the
    account kind's own.
    """
    throttle = address_throttle(request)
    address = client_address(request)
    wait = throttle.retry_after(address, now)
    if wait is not None:
        raise LoginThrottled(wait)
    checked = await db.read(check)
    if checked.locked_for_s is not None:
        raise LoginThrottled(checked.locked_for_s)
    account_id = checked.account_id
    if checked.account is None:
        throttle.failed(address, now)
        if account_id is not None:
            await db.write(lambda s: record_failure(s, account_id))
        return None
    throttle.succeeded(address)
    if checked.had_failures and account_id is not None:
        await db.write(lambda s: record_success(s, account_id))
    return checked.account


async def password_login(
    request: Request, db: Database, email: str, password: str, *, now: datetime
) -> Operator | None:
    """The operator these credentials belong to, None when wrong; LoginThrottled when locked."""

    async def check(session: AsyncSession) -> Checked[Operator]:
        result = await login.check_credentials(session, email, password, now=now)
        operator = result.operator
        if operator is None:
            return Checked(None, result.known_operator_id, result.locked_for_s)
        failed = bool(operator.failed_logins) or operator.locked_until is not None
        return Checked(operator, operator.id, None, had_failures=failed)

    return await throttled_login(
        request,
        db,
        now=now,
        check=check,
        record_failure=lambda s, operator_id: login.record_failure(s, operator_id, now=now),
        record_success=login.record_success,
    )
