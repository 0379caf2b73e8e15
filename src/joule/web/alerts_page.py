"""The alerts page: open / acknowledged / resolved with filters, live, with an acknowledge button.

AlertChanged events (raised, acknowledged, resolved) reach the open page over SSE; the page then
swaps in the server-rendered table, so a new alert shows without reload.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import Db, Services
from joule.api.errors import body_of, status_of
from joule.domain.access.scope import Scope, place_role
from joule.domain.alerting import rules, service
from joule.domain.operator.rules import may_change
from joule.kit.errors import Invalid, JouleError, NotFound
from joule.storage.models import Alert
from joule.storage.uow import UnitOfWork
from joule.web.auth import CSRF_HEADER, Session
from joule.web.render import page
from joule.web.views import alert_condition

router = APIRouter(include_in_schema=False)
ROWS = 100


async def _rows(
    db: Db,
    scope: Scope,
    *,
    state: str | None,
    station_id: str | None,
    rule: str | None,
    offset: int,
) -> tuple[list[Alert], int]:
    async def work(session: AsyncSession) -> tuple[list[Alert], int]:
        return await service.list_alerts(
            session,
            state=state or None,
            station_id=station_id or None,
            site_id=None,
            rule=rule or None,
            limit=ROWS,
            offset=offset,
            visible=alert_condition(scope),  # the operator's stations and sites only (issue 5)
        )

    return await db.read(work)


@router.get("/ui/alerts", response_class=HTMLResponse)
async def alerts(
    request: Request,
    session: Session,
    db: Db,
    state: str | None = None,
    station_id: str | None = None,
    rule: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Alerts, newest first, with filters; the table follows AlertChanged events live."""
    filters = {"state": state or "", "station_id": station_id or "", "rule": rule or ""}
    try:
        rows, total = await _rows(
            db, session.scope, state=state, station_id=station_id, rule=rule, offset=offset
        )
        error, status = None, 200
    except Invalid as problem:
        rows, total, error, status = [], 0, str(problem), 422
    return page(
        request,
        "alerts.html",
        status_code=status,
        session=session,
        rows=rows,
        total=total,
        offset=offset,
        limit=ROWS,
        filters=filters,
        states=service.STATES,
        rules=sorted(rules.RULES),
        error=error,
    )


@router.get("/ui/alerts/table", response_class=HTMLResponse)
async def alerts_table(
    request: Request,
    session: Session,
    db: Db,
    state: str | None = None,
    station_id: str | None = None,
    rule: str | None = None,
) -> Response:
    """The alerts table alone, for the live page to swap in after an AlertChanged event."""
    try:
        rows, total = await _rows(
            db, session.scope, state=state, station_id=station_id, rule=rule, offset=0
        )
    except Invalid as problem:
        return JSONResponse({"detail": str(problem)}, 422)
    return page(request, "_alerts_table.html", session=session, rows=rows, total=total)


@router.post("/ui/alerts/{alert_id}/acknowledge")
async def acknowledge(
    request: Request, alert_id: int, session: Session, services: Services, db: Db
) -> JSONResponse:
    """Acknowledge an open alert (someone is on it); the same verb as the REST API."""
    session.check_csrf(request, request.headers.get(CSRF_HEADER))
    at, scope = services.clock.now(), session.scope
    who = session.operator.email

    async def role_on(session: AsyncSession) -> str | None:
        found = await service.get_alert(session, alert_id)
        return await place_role(session, scope, station_id=found.station_id, site_id=found.site_id)

    async def work(uow: UnitOfWork) -> dict[str, object]:
        row = await service.acknowledge(uow, alert_id, operator=who, at=at)
        return service.alert_view(row)

    try:
        # Scope before role (docs/roles.md): another organisation's alert is as absent as an
        # unknown one (404); on a visible one the role at its station or site decides.
        role = await db.read(role_on)
        if role is None:
            raise NotFound(f"alert {alert_id} does not exist")
        if not may_change(role):
            return JSONResponse({"detail": f"role {role} may only read"}, 403)
        view = await services.committer.run(work)
    except JouleError as error:  # unknown 404, already resolved 409
        return JSONResponse({"ok": False, **body_of(error)}, status_of(error))
    evaluator = getattr(request.app.state, "alert_evaluator", None)
    if evaluator is not None:
        await evaluator.refresh_counts()  # the metrics gauge follows
    return JSONResponse({"ok": True, "alert": view})
