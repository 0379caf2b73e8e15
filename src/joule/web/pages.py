"""Dashboard pages: login, overview, sessions; the live stream and its snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.responses import StreamingResponse

from joule.api.deps import Db, Services
from joule.api.login import LoginThrottled
from joule.domain.access.scope import Scope, station_in_scope
from joule.domain.registry import stations, transactions
from joule.kit.errors import Invalid, NotFound
from joule.web import views
from joule.web.auth import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Session,
    authenticate,
    check_login_csrf,
    issue_session,
    new_login_csrf,
)
from joule.web.charts import meter_chart
from joule.web.fleet_map import fleet_map
from joule.web.fmt import kw, kwh, utc
from joule.web.live import LiveHub, Visibility
from joule.web.render import page

router = APIRouter(include_in_schema=False)
SESSION_ROWS = 100


def _next(target: str | None) -> str:
    # Only local dashboard paths: an open redirect after login would be a phishing aid.
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/"


def login_form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    """The login page with a fresh double-submit CSRF token."""
    token = new_login_csrf()
    response = page(
        request,
        "login.html",
        status_code=status_code,
        csrf=token,
        error=error,
        next=_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui/login",
        max_age=3600,
    )
    return response


@router.get("/")
async def root() -> RedirectResponse:
    """The dashboard lives under /ui/."""
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui/login")
async def login_page(request: Request) -> Response:
    """The login form."""
    return login_form(request)


@router.post("/ui/login")
async def login(request: Request, services: Services, db: Db) -> Response:
    """Check the credentials and set the session cookie (the API's JWT, HttpOnly, Strict)."""
    form = await request.form()
    check_login_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        operator = await authenticate(
            request, services, db, str(form.get("email", "")), str(form.get("password", ""))
        )
    except LoginThrottled as throttled:
        response = login_form(
            request,
            error=f"Too many failed logins. Try again in {throttled.retry_after_s} s.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(throttled.retry_after_s)
        return response
    if operator is None:
        # One message for unknown e-mail and wrong password: no account enumeration.
        return login_form(request, error="Wrong e-mail or password.", status_code=401)
    response = RedirectResponse(_next(str(form.get("next", ""))), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issue_session(services, operator),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=services.settings.jwt_ttl_s,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/ui/logout")
async def logout(request: Request, session: Session) -> RedirectResponse:
    """End the session (CSRF-checked so another site cannot log the operator out)."""
    form = await request.form()
    session.check_csrf(request, str(form.get(CSRF_FIELD, "")))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/ui/", response_class=HTMLResponse)
async def overview(request: Request, session: Session, services: Services, db: Db) -> Response:
    """Fleet counts and the station list with live status."""
    now, scope = services.clock.now(), session.scope
    fleet, charging = await db.read(lambda s: views.overview(s, now=now, scope=scope))
    states = {v.station.id: views.station_state(v, charging) for v in fleet.stations}
    figures = await db.read(
        lambda s: views.network_figures(s, now=now, fleet=fleet.stations, scope=scope)
    )
    points = await db.read(lambda s: views.map_points(s, fleet.stations, states, scope))
    return page(
        request,
        "overview.html",
        session=session,
        fleet=fleet,
        states=states,
        now=now,
        figures=figures,
        fleet_map=fleet_map(points),
    )


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise Invalid(f"{name} is not an ISO-8601 date or time") from None


@router.get("/ui/sessions", response_class=HTMLResponse)
async def sessions(
    request: Request,
    session: Session,
    db: Db,
    station_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Sessions, newest first, filtered by station, status and start time."""
    filters = {"station_id": station_id or "", "status": status or "", "since": since or ""}
    filters["until"] = until or ""
    try:
        lo, hi = _parse_time(since, "since"), _parse_time(until, "until")
        found, total = await db.read(
            lambda s: transactions.list_transactions(
                s,
                station_id=station_id or None,
                status=status or None,
                since=lo,
                until=hi,
                limit=SESSION_ROWS,
                offset=offset,
                scope=session.scope,
            )
        )
    except Invalid as error:
        return page(
            request,
            "sessions.html",
            status_code=422,
            session=session,
            rows=[],
            total=0,
            offset=0,
            filters=filters,
            error=str(error),
        )
    return page(
        request,
        "sessions.html",
        session=session,
        rows=found,
        total=total,
        offset=offset,
        limit=SESSION_ROWS,
        filters=filters,
        error=None,
    )


@router.get("/ui/sessions/{pk}", response_class=HTMLResponse)
async def session_detail(
    request: Request, pk: int, session: Session, services: Services, db: Db
) -> Response:
    """One session: energy, a power/energy chart and the raw OCPP trail."""
    now = services.clock.now()
    try:
        detail = await db.read(lambda s: views.session_page(s, pk, now=now, scope=session.scope))
    except NotFound as error:
        return page(request, "missing.html", status_code=404, session=session, what=str(error))
    chart = meter_chart(detail.detail.meter_values)
    return page(request, "session.html", session=session, detail=detail, chart=chart)


def _hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live
    return hub


async def _visibility(db: Db, scope: Scope) -> Visibility | None:
    """Which stations' events this operator may receive; None = all (a root operator)."""
    if scope.is_root:
        return None
    station_ids, site_ids = await db.read(lambda s: views.visible_places(s, scope))
    return Visibility(station_ids, site_ids)


@router.get("/ui/live/events")
async def live_events(
    request: Request, session: Session, db: Db, station_id: str | None = None
) -> Any:
    """The SSE stream of bus events, for one station or the operator's whole fleet."""
    hub = _hub(request)
    scope = session.scope
    if station_id and not await db.read(lambda s: station_in_scope(s, scope, station_id)):
        return JSONResponse({"detail": f"station {station_id} does not exist"}, status_code=404)
    stream = hub.open(station_id or None, visible=await _visibility(db, scope))
    return StreamingResponse(
        hub.messages(stream),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/ui/live/snapshot")
async def live_snapshot(
    session: Session, services: Services, db: Db, station_id: str | None = None
) -> JSONResponse:
    """The state the live pages show, for a (re)connected page or after events."""
    scope = session.scope
    if station_id:
        try:
            if not await db.read(lambda s: station_in_scope(s, scope, station_id)):
                raise NotFound(f"station {station_id} does not exist")
            view = await db.read(lambda s: stations.get_station(s, station_id))
            active = await db.read(lambda s: views.active_station_ids(s, scope))
        except NotFound as error:
            return JSONResponse({"detail": str(error)}, status_code=404)
        return JSONResponse({"stations": {station_id: _station_json(view, active)}})
    now = services.clock.now()
    fleet, charging = await db.read(lambda s: views.overview(s, now=now, scope=scope))
    power, alerts = await db.read(lambda s: views.live_figures(s, scope))
    counts = fleet.counts
    return JSONResponse(
        {
            "counts": {
                "stations": counts.stations,
                "online": counts.online,
                "offline": counts.offline,
                "charging": counts.charging,
                "faulted": counts.faulted,
                "sessions_today": counts.sessions_today,
                "energy_today": kwh(counts.energy_today_wh),
                "power_now": kw(power),
                "open_alerts": alerts,
            },
            "stations": {v.station.id: _station_json(v, charging) for v in fleet.stations},
        },
        headers={"Cache-Control": "no-store"},
    )


def _station_json(view: stations.StationView, charging: set[str]) -> dict[str, Any]:
    return {
        "state": views.station_state(view, charging),
        "online": view.station.online,
        "connectors": [
            {
                "evse_id": c.evse_id,
                "connector_id": c.connector_id,
                "status": c.status,
                "error_code": c.error_code,
            }
            for c in view.connectors
        ],
    }
