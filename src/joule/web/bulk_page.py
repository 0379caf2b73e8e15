"""Bulk actions from the overview: a command over the ticked stations (or a site), with progress.

The job runs in the same BulkRunner as POST /api/v1/bulk/{command} (bounded concurrency, each
station's answer in the audit log); the page polls the job for progress and per-station results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from joule.api.deps import Commands
from joule.api.errors import body_of, status_of
from joule.api.routes.bulk import _read as job_read
from joule.api.routes.bulk import _sender as sender_for
from joule.domain.command.bulk import BulkRunner, Selection
from joule.kit.errors import Invalid, JouleError
from joule.web.auth import CSRF_HEADER, Session

router = APIRouter(include_in_schema=False)
COMMANDS = ("reset", "availability", "trigger", "configuration")


def _runner(request: Request) -> BulkRunner | None:
    runner: BulkRunner | None = getattr(request.app.state, "bulk_runner", None)
    return runner


def params_of(command: str, form: dict[str, Any]) -> dict[str, Any]:
    """The single command's parameters from the bulk form's fields."""
    if command == "reset":
        return {"type": str(form.get("type", "Soft"))}
    if command == "availability":
        return {"operative": form.get("operative", "true") == "true"}
    if command == "trigger":
        return {"message": str(form.get("message", "StatusNotification"))}
    key, value = str(form.get("key", "")).strip(), str(form.get("value", ""))
    if not key:
        raise Invalid("give the configuration key to set on every station")
    return {"key": key, "value": value}


@router.post("/ui/bulk/{command}")
async def start(
    request: Request, command: str, session: Session, commands: Commands
) -> JSONResponse:
    """Start a bulk job over the ticked stations or every station of a site."""
    session.check_csrf(request, request.headers.get(CSRF_HEADER))
    if not session.may_command:
        return JSONResponse({"detail": f"role {session.operator.role} may only read"}, 403)
    runner = _runner(request)
    if runner is None:
        return JSONResponse({"detail": "bulk actions are not running in this process"}, 503)
    if command not in COMMANDS:
        return JSONResponse({"detail": f"unknown bulk command {command!r}"}, 404)
    form = await request.form()
    ids = [str(v) for v in form.getlist("station_id") if str(v).strip()]
    site = str(form.get("site_id", "")).strip()
    try:
        if not ids and not site:
            raise Invalid("tick at least one station, or choose a site")
        params = params_of(command, dict(form.items()))
        send = sender_for(command, params, commands, session.operator.email)
        selection = Selection(station_ids=tuple(ids)) if ids else Selection(site_id=site)
        job = await runner.submit(
            command=command,
            params=params,
            operator=session.operator.email,
            selection=selection,
            send=send,
        )
    except JouleError as error:
        return JSONResponse({"ok": False, **body_of(error)}, status_of(error))
    return JSONResponse({"ok": True, "job": job_read(job).model_dump(mode="json")}, 202)


@router.get("/ui/bulk/{job_id}")
async def progress(request: Request, job_id: str, session: Session) -> JSONResponse:
    """A job's progress and per-station results."""
    runner = _runner(request)
    if runner is None:
        return JSONResponse({"detail": "bulk actions are not running in this process"}, 503)
    try:
        job = runner.get(job_id)
    except JouleError as error:
        return JSONResponse(body_of(error), status_of(error))
    return JSONResponse(
        job_read(job).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )
