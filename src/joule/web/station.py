"""The station page and its command buttons (answers come back from the station itself)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError

from joule.api.deps import Commands, Db, Services
from joule.api.errors import body_of, status_of
from joule.api.schemas.command import (
    AvailabilityCommand,
    ResetCommand,
    TriggerCommand,
    UnlockCommand,
)
from joule.domain.command.service import CommandService
from joule.domain.registry import transactions
from joule.kit.errors import JouleError, NotFound
from joule.web import alerts_page, bulk_page, views
from joule.web import station_tools as tools
from joule.web.auth import CSRF_HEADER, Session
from joule.web.charts import status_timeline
from joule.web.fmt import utc
from joule.web.live_chart import live_chart
from joule.web.render import page

router = APIRouter(include_in_schema=False)

Answer = dict[str, Any]
Send = Callable[[CommandService, str, str, dict[str, Any]], Awaitable[Answer]]

RESET_TYPES = ("Soft", "Hard", "OnIdle", "Immediate")
TRIGGER_MESSAGES = (
    "StatusNotification",
    "BootNotification",
    "Heartbeat",
    "MeterValues",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
    "LogStatusNotification",
    "SignCertificate",
)


@router.get("/ui/stations/{station_id}", response_class=HTMLResponse)
async def station_page(
    request: Request,
    station_id: str,
    session: Session,
    services: Services,
    db: Db,
    q: str | None = None,
) -> Response:
    """Identity, connectors, sessions, status timeline, message log, security events, commands."""
    now = services.clock.now()
    query = (q or "").strip()[:200] or None
    try:
        data = await db.read(lambda s: views.station_page(s, station_id, now=now, query=query))
    except NotFound as error:
        return page(request, "missing.html", status_code=404, session=session, what=str(error))
    extras = await db.read(lambda s: views.station_extras(s, station_id, now=now))
    # A station younger than the window gets a timeline from its first status, not 24 h of blank.
    first = min((utc(i.started_at) for i in data.history), default=data.history_since)
    timeline = status_timeline(data.history, start=max(first, data.history_since), end=now)
    return page(
        request,
        "station.html",
        session=session,
        data=data,
        station=data.view.station,
        timeline=timeline,
        extras=extras,
        chart=live_chart(extras.samples, hours=views.CHART_HOURS),
        log_types=tools.LOG_TYPES,
        query=query or "",
        reset_types=RESET_TYPES,
        trigger_messages=TRIGGER_MESSAGES,
    )


@router.get("/ui/stations/{station_id}/sessions", response_class=HTMLResponse)
async def sessions_fragment(
    request: Request, station_id: str, session: Session, db: Db
) -> Response:
    """The station's recent sessions table, for the live page to swap in after session events."""
    rows, _ = await db.read(
        lambda s: transactions.list_transactions(s, station_id=station_id, limit=10, offset=0)
    )
    return page(request, "_sessions_table.html", session=session, rows=rows)


def _optional_int(form: dict[str, Any], name: str) -> int | None:
    value = str(form.get(name, "")).strip()
    return int(value) if value else None


def _fields(form: dict[str, Any], *names: str) -> dict[str, Any]:
    # An empty field means "not given" (the whole station), not zero.
    return {name: _optional_int(form, name) for name in names}


def _body(model: type[BaseModel], values: dict[str, Any]) -> Any:
    return model.model_validate({k: v for k, v in values.items() if v is not None})


async def _reset(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    body = _body(ResetCommand, {"type": form.get("type"), **_fields(form, "evse_id")})
    return await c.reset(sid, operator=who, type=body.type, evse_id=body.evse_id)


async def _unlock(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    body = _body(UnlockCommand, _fields(form, "evse_id", "connector_id"))
    return await c.unlock(sid, operator=who, evse_id=body.evse_id, connector_id=body.connector_id)


async def _availability(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    values = {"operative": form.get("operative") == "true"}
    body = _body(AvailabilityCommand, {**values, **_fields(form, "evse_id", "connector_id")})
    return await c.availability(
        sid,
        operator=who,
        operative=body.operative,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )


async def _trigger(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    values = {"message": form.get("message"), **_fields(form, "evse_id", "connector_id")}
    body = _body(TriggerCommand, values)
    return await c.trigger(
        sid,
        operator=who,
        message=body.message,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )


async def _raw(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    action = str(form.get("action", "")).strip()
    payload = json.loads(str(form.get("payload", "") or "{}"))
    if not action or not isinstance(payload, dict):
        raise ValueError("give an OCPP action and a JSON object as its payload")
    return await c.raw(sid, operator=who, action=action, payload=payload)


COMMANDS: dict[str, Send] = {
    "reset": _reset,
    "unlock": _unlock,
    "availability": _availability,
    "trigger": _trigger,
    "raw": _raw,
    "config_read": tools.read_configuration,
    "config_set": tools.set_configuration,
    "firmware": tools.update_firmware,
    "diagnostics": tools.upload_log,
}


@router.post("/ui/stations/{station_id}/commands/{kind}")
async def command(
    request: Request, station_id: str, kind: str, session: Session, commands: Commands
) -> JSONResponse:
    """Send one command through the command service; the JSON is the station's answer."""
    session.check_csrf(request, request.headers.get(CSRF_HEADER))
    if not session.may_command:
        return JSONResponse({"detail": f"role {session.role} may only read"}, 403)
    send = COMMANDS.get(kind)
    if send is None:
        return JSONResponse({"detail": f"unknown command {kind!r}"}, 404)
    form = dict((await request.form()).items())
    try:
        answer = await send(commands, station_id, session.operator.email, form)
    except ValidationError as error:
        problems = "; ".join(e["msg"] for e in error.errors(include_url=False))
        return JSONResponse({"ok": False, "detail": problems}, 422)
    except ValueError as error:  # a bad number or JSON in the form
        return JSONResponse({"ok": False, "detail": str(error)}, 422)
    except JouleError as error:
        # Offline 409, timeout 504, CALLERROR 502 … the same table the REST API uses.
        return JSONResponse({"ok": False, **body_of(error)}, status_of(error))
    return JSONResponse({"ok": True, "answer": answer})


# The alerts page and bulk actions live in their own modules; mounted with the station routes.
router.include_router(alerts_page.router)
router.include_router(bulk_page.router)
