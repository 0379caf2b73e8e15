"""Dashboard sessions: the API's JWT in an HttpOnly, SameSite=Strict cookie, CSRF-checked forms."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import ApiServices, Database, get_database, get_services
from joule.api.login import password_login
from joule.api.security import InvalidToken, issue_token, read_token
from joule.domain.access.scope import Scope, station_role
from joule.domain.operator import service as operators
from joule.domain.operator.rules import may_change
from joule.storage.models import Operator

SESSION_COOKIE = "joule_session"
LOGIN_CSRF_COOKIE = "joule_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/ui/login"


class LoginRequired(Exception):
    """No valid session cookie: pages redirect to the login form, live endpoints answer 401."""


class CsrfRejected(Exception):
    """A state-changing request without a valid CSRF token or from a foreign origin."""


def csrf_token(session_token: str, secret: str) -> str:
    """The CSRF token bound to one session: an HMAC of the session JWT with the server secret."""
    digest = hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return digest.hexdigest()


def new_login_csrf() -> str:
    """A random double-submit token for the login form (there is no session to bind it to yet)."""
    return secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (Origin/Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        # Browsers always send Origin on cross-site POSTs; its absence means same-origin or a
        # non-browser client, which the CSRF token still has to satisfy.
        return source is None
    return urlsplit(source).netloc == request.headers.get("host", request.url.netloc)


def check_login_csrf(request: Request, submitted: str) -> None:
    """Refuse a login POST whose double-submit token does not match its cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not same_origin(request) or not cookie or not hmac.compare_digest(cookie, submitted):
        raise CsrfRejected("the login form expired; reload the page")


def issue_session(services: ApiServices, operator: Operator) -> str:
    """A session token: the same HS256 JWT the API issues, with the same lifetime."""
    token, _ = issue_token(
        operator_id=operator.id,
        role=operator.role,
        secret=services.jwt_secret,
        now=services.clock.now(),
        ttl_s=services.settings.jwt_ttl_s,
    )
    return token


async def authenticate(
    request: Request, services: ApiServices, db: Database, email: str, password: str
) -> Operator | None:
    """The active operator with these credentials, or None; LoginThrottled when it must wait.

    The same throttle as the API's token endpoint (per account and per address), so the
    dashboard is no side door for guessing passwords.
    """
    return await password_login(request, db, email, password, now=services.clock.now())


class WebSession:
    """The logged-in operator of a dashboard request and what the role may do."""

    def __init__(
        self,
        operator: Operator,
        token: str,
        secret: str,
        *,
        scope: Scope,
        station_role: str | None = None,
    ) -> None:
        self.operator = operator
        self.csrf = csrf_token(token, secret)
        # What the operator sees (docs/roles.md): every list, count, map and live event is cut
        # to it, so another organisation's stations are absent from every page (issue 5).
        self.scope = scope
        self.station_role = station_role  # the role on the page's {station_id}, when it has one

    @property
    def role(self) -> str:
        """The role that counts on this page: on its station (site grants included, the stronger
        of grant and organisation role) when it has one, else the organisation role."""
        return self.station_role or self.scope.role

    @property
    def may_command(self) -> bool:
        """Admins and operators send commands; viewers only look (a site grant counts here)."""
        return may_change(self.role)

    def check_csrf(self, request: Request, submitted: str | None) -> None:
        """Refuse a state-changing request without this session's CSRF token."""
        if not same_origin(request) or not submitted:
            raise CsrfRejected("missing CSRF token or foreign origin")
        if not hmac.compare_digest(submitted, self.csrf):
            raise CsrfRejected("bad CSRF token")


async def get_web_session(
    request: Request,
    services: Annotated[ApiServices, Depends(get_services)],
    db: Annotated[Database, Depends(get_database)],
) -> WebSession:
    """The session of the cookie; LoginRequired when absent, forged, expired or deactivated."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    try:
        claims = read_token(token, secret=services.jwt_secret, now=services.clock.now())
    except InvalidToken:
        raise LoginRequired from None
    # Read on every request, as the API does: a deactivated operator is out at once.
    # A token issued before the operator's last password change is void (session expiry).
    station_id = request.path_params.get("station_id")

    async def load(session: AsyncSession) -> tuple[Operator, Scope, str | None] | None:
        found = await operators.get_active_operator(session, claims.operator_id, claims.issued_at)
        if found is None:
            return None
        scope = await operators.operator_scope(session, found)
        role = (
            await station_role(session, scope, station_id) if isinstance(station_id, str) else None
        )
        return found, scope, role

    loaded = await db.read(load)
    if loaded is None:
        raise LoginRequired
    operator, scope, role = loaded
    if isinstance(station_id, str) and role is None:
        # Every dashboard page about a station shares this: another organisation's station is
        # as absent as an unknown one (issue 5: 404, never 403).
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"station {station_id} does not exist"
        )
    return WebSession(operator, token, services.jwt_secret, scope=scope, station_role=role)


Session = Annotated[WebSession, Depends(get_web_session)]
