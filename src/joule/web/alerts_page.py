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
from joule.domain.alerting import rules, service
from joule.kit.errors import Invalid, JouleError
from joule.storage.models import Alert
from joule.storage.uow import UnitOfWork
from joule.web.auth import CSRF_HEADER, Session
from joule.web.render import page

router = APIRouter(include_in_schema=False)
ROWS = 100


async def _rows(
    db: Db, *, state: str | None, station_id: str | None, rule: str | None, offset: int
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
        rows, total = await _rows(db, state=state, station_id=station_id, rule=rule, offset=offset)
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
        rows, total = await _rows(db, state=state, station_id=station_id, rule=rule, offset=0)
    except Invalid as problem:
        return JSONResponse({"detail": str(problem)}, 422)
    return page(request, "_alerts_table.html", session=session, rows=rows, total=total)


@router.post("/ui/alerts/{alert_id}/acknowledge")
async def acknowledge(
    request: Request, alert_id: int, session: Session, services: Services
) -> JSONResponse:
    """Acknowledge an open alert (someone is on it); the same verb as the REST API."""
    session.check_csrf(request, request.headers.get(CSRF_HEADER))
    if not session.may_command:
        return JSONResponse({"detail": f"role {session.operator.role} may only read"}, 403)
    at = services.clock.now()
    who = session.operator.email

    async def work(uow: UnitOfWork) -> dict[str, object]:
        row = await service.acknowledge(uow, alert_id, operator=who, at=at)
        return service.alert_view(row)

    try:
        view = await services.committer.run(work)
    except JouleError as error:  # unknown 404, already resolved 409
        return JSONResponse({"ok": False, **body_of(error)}, status_of(error))
    evaluator = getattr(request.app.state, "alert_evaluator", None)
    if evaluator is not None:
        await evaluator.refresh_counts()  # the metrics gauge follows
    return JSONResponse({"ok": True, "alert": view})
