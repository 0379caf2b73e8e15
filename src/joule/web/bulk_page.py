"""Bulk actions from the overview: a command over the ticked stations (or a site), with progress.

The job runs in the same BulkRunner as POST /api/v1/bulk/{command} (bounded concurrency, each
station's answer in the audit log); the page polls the job for progress and per-station results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from joule.api.bulk_actions import bulk_job_read, bulk_sender, bulk_visible
from joule.api.deps import Commands
from joule.api.errors import body_of, status_of
from joule.domain.command.bulk import BulkRunner, Selection
from joule.domain.operator.rules import may_change
from joule.kit.errors import Invalid, JouleError, NotFound
from joule.web.auth import CSRF_HEADER, Session

router = APIRouter(include_in_schema=False)
COMMANDS = ("reset", "availability", "trigger", "configuration", "firmware")


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
    if command == "firmware":
        given = ("location", "retrieve_at", "install_at", "retries", "retry_interval")
        return {k: str(form[k]).strip() for k in given if str(form.get(k, "")).strip()}
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
    # A viewer with an operator grant on a site may command that site's stations (docs/roles.md);
    # the selection below is cut to the stations the operator may command either way.
    if not (session.may_command or any(may_change(g.role) for g in session.scope.site_grants)):
        return JSONResponse({"detail": f"role {session.role} may only read"}, 403)
    runner = _runner(request)
    if runner is None:
        return JSONResponse({"detail": "bulk actions are not running in this process"}, 503)
    if command not in COMMANDS:
        return JSONResponse({"detail": f"unknown bulk command {command!r}"}, 404)
    form = await request.form()
    ids = [str(v) for v in form.getlist("station_id") if str(v).strip()]
    site, model, vendor = (
        str(form.get(name, "")).strip() or None for name in ("site_id", "model", "vendor")
    )
    # Only stations this operator may command: another organisation's answer not_found, as if
    # absent (docs/roles.md), and the job is seen by the operator's subtree only.
    visible = bulk_visible(session.scope)
    try:
        if not ids and not (site or model or vendor):
            raise Invalid("tick at least one station, or choose a site, model or vendor")
        params = params_of(command, dict(form.items()))
        send = bulk_sender(command, params, commands, session.operator.email)
        selection = (
            Selection(station_ids=tuple(ids), visible=visible)
            if ids
            else Selection(site_id=site, model=model, vendor=vendor, visible=visible)
        )
        job = await runner.submit(
            command=command,
            params=params,
            operator=session.operator.email,
            selection=selection,
            send=send,
            organisation_id=session.scope.organisation_id,
        )
    except JouleError as error:
        return JSONResponse({"ok": False, **body_of(error)}, status_of(error))
    return JSONResponse({"ok": True, "job": bulk_job_read(job).model_dump(mode="json")}, 202)


@router.get("/ui/bulk/{job_id}")
async def progress(request: Request, job_id: str, session: Session) -> JSONResponse:
    """A job's progress and per-station results."""
    runner = _runner(request)
    if runner is None:
        return JSONResponse({"detail": "bulk actions are not running in this process"}, 503)
    try:
        job = runner.get(job_id)
        if not session.scope.sees_organisation(job.organisation_id):
            raise NotFound(f"bulk job {job_id} does not exist")  # another organisation's
    except JouleError as error:
        return JSONResponse(body_of(error), status_of(error))
    return JSONResponse(
        bulk_job_read(job).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )
