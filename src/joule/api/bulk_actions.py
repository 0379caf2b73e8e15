"""What a bulk action sends to each station, and how a job reads: shared by the REST API
(`POST /api/v1/bulk/{command}`) and the dashboard's bulk form, so both check parameters once and
translate per station the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement

from joule.api.schemas.bulk import BulkJobRead, BulkStationResult
from joule.api.schemas.command import (
    AvailabilityCommand,
    ConfigurationCommand,
    ResetCommand,
    TriggerCommand,
    UnlockCommand,
)
from joule.api.schemas.command_maintenance import FirmwareCommand
from joule.domain.access.scope import Scope, changeable_station_condition
from joule.domain.command import maintenance
from joule.domain.command.bulk import BulkJob
from joule.domain.command.service import CommandService
from joule.domain.command.translate import VariableRef
from joule.kit.errors import Invalid

Send = Callable[[str], Awaitable[dict[str, Any]]]

COMMANDS = ("reset", "unlock", "availability", "trigger", "configuration", "firmware")


def _parse(model: type[BaseModel], params: dict[str, Any]) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise Invalid(f"invalid params: {error.errors(include_url=False)}") from None


def _firmware(params: dict[str, Any], commands: CommandService, who: str) -> Send:
    # One roll-out, one set of parameters; each station gets the UpdateFirmware of its own
    # version (1.6 core, 1.6 SignedUpdateFirmware when signed, 2.0.1 L01/L02) with its own
    # requestId, so a mixed fleet needs no per-version jobs.
    fw: FirmwareCommand = _parse(FirmwareCommand, params)
    return lambda sid: maintenance.update_firmware(
        commands,
        sid,
        operator=who,
        location=fw.location,
        retrieve_at=fw.retrieve_at,
        install_at=fw.install_at,
        retries=fw.retries,
        retry_interval=fw.retry_interval,
        signing_certificate=fw.signing_certificate,
        signature=fw.signature,
    )


def bulk_sender(command: str, params: dict[str, Any], commands: CommandService, who: str) -> Send:
    """The per-station call for a command, its params checked once up front (Invalid → 422)."""
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
    if command == "firmware":
        return _firmware(params, commands, who)
    if command[:1].isupper() and command.isalnum():
        return lambda sid: commands.raw(sid, operator=who, action=command, payload=params)
    raise Invalid(
        f"unknown bulk command {command}: use {', '.join(COMMANDS)} "
        "or an OCPP action name such as UpdateFirmware"
    )


def bulk_visible(scope: Scope) -> ColumnElement[bool] | None:
    """The stations a bulk selection may reach: those the caller may command (docs/roles.md);
    None for a root caller whose role may change data (every station)."""
    if scope.is_root and scope.may_change:
        return None
    return changeable_station_condition(scope)


def bulk_job_read(job: BulkJob) -> BulkJobRead:
    """A job's progress and per-station results as the API and the dashboard show them."""
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
