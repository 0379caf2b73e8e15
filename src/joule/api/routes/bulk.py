"""Bulk actions: one command over many stations, bounded concurrency, per-station results.

`command` is reset | unlock | availability | trigger | configuration (the parameters of the single
station command of that name), or any CSMS OCPP action such as UpdateFirmware (params: the
payload, validated per station against its version's schema).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ValidationError

from joule.api.deps import CommandOperator, Commands, CurrentOperator
from joule.api.schemas.bulk import BulkCreate, BulkJobRead, BulkStationResult
from joule.api.schemas.command import (
    AvailabilityCommand,
    ConfigurationCommand,
    ResetCommand,
    TriggerCommand,
    UnlockCommand,
)
from joule.domain.access.scope import changeable_station_condition as bulk_station_condition
from joule.domain.command.bulk import BulkJob, BulkRunner, Selection
from joule.domain.command.service import CommandService
from joule.domain.command.translate import VariableRef
from joule.kit.errors import Invalid, NotFound

router = APIRouter(tags=["bulk"])

Send = Callable[[str], Awaitable[dict[str, Any]]]


def _runner(request: Request) -> BulkRunner:
    runner: BulkRunner = request.app.state.bulk_runner
    return runner


def _parse(model: type[BaseModel], params: dict[str, Any]) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise Invalid(f"invalid params: {error.errors(include_url=False)}") from None


def _sender(command: str, params: dict[str, Any], commands: CommandService, who: str) -> Send:
    """The per-station call for a command, its params checked once up front."""
    if command == "reset":
        reset: ResetCommand = _parse(ResetCommand, params)
        return lambda sid: commands.reset(sid, operator=who, type=reset.type, evse_id=reset.evse_id)
    if command == "unlock":
        unlock: UnlockCommand = _parse(UnlockCommand, params)
        return lambda sid: commands.unlock(
            sid, operator=who, evse_id=unlock.evse_id, connector_id=unlock.connector_id
        )
    if command == "availability":
        av: AvailabilityCommand = _parse(AvailabilityCommand, params)
        return lambda sid: commands.availability(
            sid,
            operator=who,
            operative=av.operative,
            evse_id=av.evse_id,
            connector_id=av.connector_id,
        )
    if command == "trigger":
        tr: TriggerCommand = _parse(TriggerCommand, params)
        return lambda sid: commands.trigger(
            sid, operator=who, message=tr.message, evse_id=tr.evse_id, connector_id=tr.connector_id
        )
    if command == "configuration":
        cfg: ConfigurationCommand = _parse(ConfigurationCommand, params)
        variable = (
            VariableRef(component=cfg.component, variable=cfg.variable)
            if cfg.component is not None and cfg.variable is not None
            else None
        )
        if cfg.value is not None:
            value = cfg.value
            return lambda sid: commands.set_configuration(
                sid, operator=who, value=value, key=cfg.key, variable=variable
            )
        wanted = [variable] if variable is not None else []
        return lambda sid: commands.get_configuration(
            sid, operator=who, keys=cfg.keys or [], variables=wanted
        )
    if command[:1].isupper() and command.isalnum():
        return lambda sid: commands.raw(sid, operator=who, action=command, payload=params)
    raise Invalid(
        f"unknown bulk command {command}: use reset, unlock, availability, trigger, "
        "configuration or an OCPP action name such as UpdateFirmware"
    )


def _read(job: BulkJob) -> BulkJobRead:
    return BulkJobRead(
        id=job.id,
        command=job.command,
        params=job.params,
        operator=job.operator,
        state=job.state,
        created_at=job.created_at,
        finished_at=job.finished_at,
        total=len(job.results),
        counts=job.counts(),
        results=[
            BulkStationResult(
                station_id=r.station_id,
                state=r.state,
                outcome=r.outcome,
                response=r.response,
                error=r.error,
                finished_at=r.finished_at,
            )
            for r in job.results.values()
        ],
    )


@router.post("/bulk/{command}", status_code=status.HTTP_202_ACCEPTED)
async def start_bulk(
    command: str,
    body: BulkCreate,
    request: Request,
    operator: CommandOperator,
    commands: Commands,
) -> BulkJobRead:
    """Start a bulk action; poll GET /bulk/{job} for progress and per-station results."""
    send = _sender(command, body.params, commands, operator.email)
    flt = body.filter
    # Only stations where the caller may send commands; others answer not_found, as if absent.
    visible = None if operator.scope.is_root else bulk_station_condition(operator.scope)
    selection = (
        Selection(station_ids=tuple(body.station_ids), visible=visible)
        if body.station_ids is not None
        else Selection(
            site_id=flt.site_id if flt else None,
            model=flt.model if flt else None,
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
    return _read(job)


@router.get("/bulk/{job_id}")
async def get_bulk(job_id: str, request: Request, caller: CurrentOperator) -> BulkJobRead:
    """A bulk job's progress and per-station results; 404 for another organisation's job."""
    job = _runner(request).get(job_id)
    if not caller.scope.sees_organisation(job.organisation_id):
        raise NotFound(f"bulk job {job_id} does not exist")
    return _read(job)
