"""Bulk actions: one command over many stations, bounded concurrency, per-station results.

`command` is reset | unlock | availability | trigger | configuration | firmware (the parameters of
the single station command of that name; firmware = POST /stations/{id}/firmware, translated per
station's version, so one job rolls out to a mixed 1.6/2.0.1 fleet), or any CSMS OCPP action such as
UpdateFirmware (params: the raw payload, validated per station against its version's schema).
The filter selects by site, vendor, model and online; only stations the caller may command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from joule.api.bulk_actions import bulk_job_read, bulk_sender, bulk_visible
from joule.api.deps import CommandOperator, Commands, CurrentOperator
from joule.api.schemas.bulk import BulkCreate, BulkJobRead
from joule.domain.command.bulk import BulkRunner, Selection
from joule.kit.errors import NotFound

router = APIRouter(tags=["bulk"])


def _runner(request: Request) -> BulkRunner:
    runner: BulkRunner = request.app.state.bulk_runner
    return runner


@router.post("/bulk/{command}", status_code=status.HTTP_202_ACCEPTED)
async def start_bulk(
    command: str,
    body: BulkCreate,
    request: Request,
    operator: CommandOperator,
    commands: Commands,
) -> BulkJobRead:
    """Start a bulk action; poll GET /bulk/{job} for progress and per-station results."""
    send = bulk_sender(command, body.params, commands, operator.email)
    flt = body.filter
    # Only stations where the caller may send commands; others answer not_found, as if absent.
    visible = bulk_visible(operator.scope)
    selection = (
        Selection(station_ids=tuple(body.station_ids), visible=visible)
        if body.station_ids is not None
        else Selection(
            site_id=flt.site_id if flt else None,
            model=flt.model if flt else None,
            vendor=flt.vendor if flt else None,
            online=flt.online if flt else None,
            visible=visible,
        )
    )
    job = await _runner(request).submit(
        command=command,
        params=body.params,
        operator=operator.email,
        selection=selection,
        send=send,
        organisation_id=operator.scope.organisation_id,
    )
    return bulk_job_read(job)


@router.get("/bulk/{job_id}")
async def get_bulk(job_id: str, request: Request, caller: CurrentOperator) -> BulkJobRead:
    """A bulk job's progress and per-station results; 404 for another organisation's job."""
    job = _runner(request).get(job_id)
    if not caller.scope.sees_organisation(job.organisation_id):
        raise NotFound(f"bulk job {job_id} does not exist")
    return bulk_job_read(job)
