"""Password login for the API and the dashboard alike: throttled per account and per address."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

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


async def password_login(
    request: Request, db: Database, email: str, password: str, *, now: datetime
) -> Operator | None:
    """The operator these credentials belong to, None when wrong; LoginThrottled when locked."""
    throttle = address_throttle(request)
    address = client_address(request)
    wait = throttle.retry_after(address, now)
    if wait is not None:
        raise LoginThrottled(wait)
    check = await db.read(lambda s: login.check_credentials(s, email, password, now=now))
    if check.locked_for_s is not None:
        raise LoginThrottled(check.locked_for_s)
    if check.operator is None:
        throttle.failed(address, now)
        failed_id = check.known_operator_id
        if failed_id is not None:
            await db.write(lambda s: login.record_failure(s, failed_id, now=now))
        return None
    throttle.succeeded(address)
    operator = check.operator
    if operator.failed_logins or operator.locked_until is not None:
        operator_id = operator.id
        await db.write(lambda s: login.record_success(s, operator_id))
    return operator
