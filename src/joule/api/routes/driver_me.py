"""Driver self-service API: a driver's own login, profile, tokens and sessions (issue 5).

Driver tokens are JWTs with the audience `joule-driver`. The operator reader accepts no token
with an audience and this reader requires it, so neither kind opens the other's endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import ApiServices, Database, Db, PageParams, Services, unauthorized
from joule.api.login import Checked, LoginThrottled, throttled_login
from joule.api.schemas.common import Page, UtcDatetime
from joule.api.schemas.operator import AccessToken
from joule.api.schemas.transaction import TransactionRead
from joule.api.security import InvalidToken, sign, verify
from joule.domain.driver_portal import service as portal
from joule.domain.driver_portal.blocking import block_own_token
from joule.storage.models import Driver, IdToken

router = APIRouter(tags=["driver self-service"])

DRIVER_AUDIENCE = "joule-driver"
DRIVER_TOKEN_URL = "/api/v1/driver/auth/token"


@dataclass(frozen=True, slots=True)
class DriverClaims:
    """What a valid driver token says."""

    driver_id: int
    issued_at: datetime


def issue_driver_token(*, driver_id: int, secret: str, now: datetime, ttl_s: int) -> str:
    """A signed driver token: audience joule-driver, subject = driver id."""
    return sign(driver_id, secret=secret, now=now, ttl_s=ttl_s, audience=DRIVER_AUDIENCE)


def read_driver_token(token: str, *, secret: str, now: datetime) -> DriverClaims:
    """The claims of a driver token valid at `now`; an operator token (no audience) fails."""
    verified = verify(token, secret=secret, now=now, audience=DRIVER_AUDIENCE)
    return DriverClaims(driver_id=verified.subject_id, issued_at=verified.issued_at)


async def driver_password_login(
    request: Request, db: Database, email: str, password: str, *, now: datetime
) -> Driver | None:
    """The driver these credentials belong to, None when wrong; LoginThrottled when locked.

    Throttled like operators (api/login.py): the account locks after repeated failures, and the
    client address shares the operators' per-address backoff, so spraying passwords over driver
    and operator accounts alike slows down the same way.
    """

    async def check(session: AsyncSession) -> Checked[Driver]:
        result = await portal.check_credentials(session, email, password, now=now)
        driver = result.driver
        if driver is None:
            return Checked(None, result.known_driver_id, result.locked_for_s)
        failed = bool(driver.failed_logins) or driver.locked_until is not None
        return Checked(driver, driver.id, None, had_failures=failed)

    return await throttled_login(
        request,
        db,
        now=now,
        check=check,
        record_failure=lambda s, driver_id: portal.record_failure(s, driver_id, now=now),
        record_success=portal.record_success,
    )


async def driver_of_token(token: str | None, services: ApiServices, db: Database) -> Driver | None:
    """The active driver a driver token names, or None (read on every request)."""
    if not token:
        return None
    try:
        claims = read_driver_token(token, secret=services.jwt_secret, now=services.clock.now())
    except InvalidToken:
        return None
    return await db.read(
        lambda s: portal.get_active_driver(s, claims.driver_id, issued_at=claims.issued_at)
    )


_bearer = OAuth2PasswordBearer(
    tokenUrl=DRIVER_TOKEN_URL, scheme_name="DriverBearer", auto_error=False
)


async def get_current_driver(
    services: Services, db: Db, token: Annotated[str | None, Depends(_bearer)]
) -> Driver:
    """The driver the bearer token names; 401 otherwise (an operator token included)."""
    if token is None:
        raise unauthorized("not authenticated")
    driver = await driver_of_token(token, services, db)
    if driver is None:
        raise unauthorized("invalid or expired driver token")
    return driver


CurrentDriver = Annotated[Driver, Depends(get_current_driver)]


class DriverRead(BaseModel):
    """The logged-in driver."""

    id: int
    name: str
    email: str | None
    status: str
    organisation_id: str | None


class MyTokenRead(BaseModel):
    """One of the driver's id tokens."""

    uid: str
    type: str
    status: str
    expiry: UtcDatetime | None
    group_id: str | None

    @classmethod
    def of(cls, token: IdToken) -> MyTokenRead:
        return cls(
            uid=token.uid,
            type=token.type,
            status=token.status,
            expiry=token.expiry,
            group_id=token.group_id,
        )


@router.post("/driver/auth/token")
async def driver_login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    services: Services,
    db: Db,
) -> AccessToken:
    """Exchange a driver's e-mail and password for a driver token; 401 wrong, 429 locked."""
    now = services.clock.now()
    try:
        driver = await driver_password_login(request, db, form.username, form.password, now=now)
    except LoginThrottled as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=str(error),
            headers={"Retry-After": str(error.retry_after_s)},
        ) from None
    if driver is None:
        # One message for unknown, locked and wrong: no account enumeration.
        raise unauthorized("wrong e-mail or password")
    ttl = services.settings.jwt_ttl_s
    token = issue_driver_token(driver_id=driver.id, secret=services.jwt_secret, now=now, ttl_s=ttl)
    return AccessToken(access_token=token, expires_in=ttl)


@router.get("/me")
async def me(driver: CurrentDriver) -> DriverRead:
    """The logged-in driver."""
    return DriverRead(
        id=driver.id,
        name=driver.name,
        email=driver.email,
        status=driver.status,
        organisation_id=driver.organisation_id,
    )


@router.get("/me/tokens")
async def my_tokens(driver: CurrentDriver, db: Db) -> list[MyTokenRead]:
    """The driver's id tokens (cards, app ids), by uid."""
    found = await db.read(lambda s: portal.tokens_of(s, driver.id))
    return [MyTokenRead.of(t) for t in found]


@router.get("/me/sessions")
async def my_sessions(driver: CurrentDriver, db: Db, page: PageParams) -> Page[TransactionRead]:
    """The sessions started with the driver's tokens, newest first, with their energy."""
    found, total = await db.read(
        lambda s: portal.sessions_of(s, driver.id, limit=page.limit, offset=page.offset)
    )
    items = [TransactionRead.of(v) for v in found]
    return Page[TransactionRead].of(items, total, limit=page.limit, offset=page.offset)


@router.post("/me/tokens/{uid}/block")
async def block_my_token(uid: str, driver: CurrentDriver, services: Services) -> MyTokenRead:
    """Block one of the driver's own tokens (a lost card); 404 for anyone else's.

    Audited, and stations' local lists follow through the AccessChanged event.
    """
    token = await block_own_token(
        services.committer, driver_id=driver.id, uid=uid, now=services.clock.now()
    )
    return MyTokenRead.of(token)
