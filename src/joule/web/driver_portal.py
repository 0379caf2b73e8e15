"""The driver portal at /driver: log in, see my tokens and sessions, block a lost card (issue 5).

Apart from the operator dashboard: its own cookie (a driver token, audience joule-driver, path
/driver) and its own CSRF tokens, bound the same way as the dashboard's (web/auth.py).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from joule.api.deps import ApiServices, Database, Db, Services
from joule.api.login import LoginThrottled
from joule.api.routes.driver_me import driver_of_token, driver_password_login, issue_driver_token
from joule.domain.driver_portal import service as portal
from joule.domain.driver_portal.blocking import block_own_token
from joule.kit.errors import NotFound
from joule.storage.models import Driver
from joule.web.auth import CSRF_FIELD, CsrfRejected, csrf_token, new_login_csrf, same_origin
from joule.web.render import page

router = APIRouter(include_in_schema=False)

PORTAL = "/driver"
DRIVER_COOKIE = "joule_driver"
DRIVER_LOGIN_CSRF_COOKIE = "joule_driver_login_csrf"
SESSION_ROWS = 50


class DriverSession:
    """The logged-in driver of a portal request and the CSRF token bound to the cookie."""

    def __init__(self, driver: Driver, token: str, secret: str) -> None:
        self.driver = driver
        # A different message than the dashboard's, so one kind of token never fits the other.
        self.csrf = csrf_token("driver:" + token, secret)

    def check_csrf(self, request: Request, submitted: str) -> None:
        """Refuse a state-changing request without this session's CSRF token."""
        if not same_origin(request) or not submitted:
            raise CsrfRejected("missing CSRF token or foreign origin")
        if not hmac.compare_digest(submitted, self.csrf):
            raise CsrfRejected("bad CSRF token")


async def _session(request: Request, services: ApiServices, db: Database) -> DriverSession | None:
    token = request.cookies.get(DRIVER_COOKIE)
    driver = await driver_of_token(token, services, db)
    if driver is None or token is None:
        return None
    return DriverSession(driver, token, services.jwt_secret)


def _login_form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = new_login_csrf()
    response = page(request, "driver_login.html", status_code=status_code, csrf=token, error=error)
    response.set_cookie(
        DRIVER_LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=f"{PORTAL}/login",
        max_age=3600,
    )
    return response


@router.get(PORTAL)
async def portal_home(request: Request, services: Services, db: Db) -> Response:
    """My tokens and my sessions; the login form when not logged in."""
    session = await _session(request, services, db)
    if session is None:
        return _login_form(request)
    driver_id = session.driver.id
    tokens = await db.read(lambda s: portal.tokens_of(s, driver_id))
    rows, total = await db.read(
        lambda s: portal.sessions_of(s, driver_id, limit=SESSION_ROWS, offset=0)
    )
    # Only a card of this driver that is Blocked: the query string cannot put words on the page.
    asked = request.query_params.get("blocked", "").lower()
    notice = next((t.uid for t in tokens if t.uid.lower() == asked and t.status == "Blocked"), None)
    return page(
        request,
        "driver_home.html",
        driver=session.driver,
        csrf=session.csrf,
        tokens=tokens,
        rows=rows,
        total=total,
        notice=notice,
    )


@router.post(f"{PORTAL}/login")
async def portal_login(request: Request, services: Services, db: Db) -> Response:
    """Check the credentials (throttled like operators: 429 when locked) and set the cookie."""
    form = await request.form()
    cookie = request.cookies.get(DRIVER_LOGIN_CSRF_COOKIE, "")
    submitted = str(form.get(CSRF_FIELD, ""))
    if not same_origin(request) or not cookie or not hmac.compare_digest(cookie, submitted):
        raise CsrfRejected("the login form expired; reload the page")
    now = services.clock.now()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        driver = await driver_password_login(request, db, email, password, now=now)
    except LoginThrottled as throttled:
        wait = throttled.retry_after_s
        response = _login_form(
            request, error=f"Too many failed logins. Try again in {wait} s.", status_code=429
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if driver is None:
        # One message for unknown, locked and wrong: no account enumeration.
        return _login_form(request, error="Wrong e-mail or password.", status_code=401)
    ttl = services.settings.jwt_ttl_s
    response = RedirectResponse(PORTAL, status_code=303)
    response.set_cookie(
        DRIVER_COOKIE,
        issue_driver_token(driver_id=driver.id, secret=services.jwt_secret, now=now, ttl_s=ttl),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PORTAL,
        max_age=ttl,
    )
    response.delete_cookie(DRIVER_LOGIN_CSRF_COOKIE, path=f"{PORTAL}/login")
    return response


async def _checked(request: Request, services: ApiServices, db: Database) -> DriverSession:
    session = await _session(request, services, db)
    if session is None:
        raise CsrfRejected("not logged in")  # 403: a form post without a session
    form = await request.form()
    session.check_csrf(request, str(form.get(CSRF_FIELD, "")))
    return session


@router.post(f"{PORTAL}/logout")
async def portal_logout(request: Request, services: Services, db: Db) -> Response:
    """End the driver session (CSRF-checked)."""
    await _checked(request, services, db)
    response = RedirectResponse(PORTAL, status_code=303)
    response.delete_cookie(DRIVER_COOKIE, path=PORTAL)
    return response


@router.post(PORTAL + "/tokens/{uid}/block")
async def portal_block(uid: str, request: Request, services: Services, db: Db) -> Response:
    """Block one of my cards; another driver's uid is 404 like an unknown one."""
    session = await _checked(request, services, db)
    try:
        token = await block_own_token(
            services.committer, driver_id=session.driver.id, uid=uid, now=services.clock.now()
        )
    except NotFound as error:
        return page(request, "missing.html", status_code=404, what=str(error))
    return RedirectResponse(f"{PORTAL}?blocked={token.uid}", status_code=303)
