"""2.x device-model variables (B05–B07) as first-class commands: send and audit."""

from __future__ import annotations

from joule.domain.command.service import CommandService, fixed, new_request_id
from joule.domain.command.translate import Payload, VariableRef
from joule.domain.command.translate_variables import (
    VariableValue,
    base_report_request,
    get_variables_request,
    set_variables_request,
)


def _name(ref: VariableRef) -> str:
    return f"{ref.component}.{ref.variable}"


async def get_variables(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    variables: list[tuple[VariableRef, str | None]],
) -> Payload:
    """GetVariables (B06): one result per variable asked for."""
    build = fixed(lambda version: get_variables_request(version, variables=variables))
    params = {"variables": [_name(ref) for ref, _ in variables]}
    return await commands.send(station_id, operator, "get_variables", params, build)


async def set_variables(
    commands: CommandService, station_id: str, *, operator: str, values: list[VariableValue]
) -> Payload:
    """SetVariables (B05): one result per attribute (passwords never reach the audit log)."""
    build = fixed(lambda version: set_variables_request(version, values=values))
    params = {"variables": [_name(v.ref) for v in values]}
    return await commands.send(station_id, operator, "set_variables", params, build)


async def base_report(
    commands: CommandService, station_id: str, *, operator: str, report_base: str
) -> Payload:
    """GetBaseReport (B07; NotifyReport parts follow, with the returned requestId) or, 1.6,
    GetConfiguration of every key (answered at once)."""
    request_id = new_request_id()
    params = {"report_base": report_base}
    return await commands.send_numbered(
        station_id,
        operator,
        "base_report",
        params,
        lambda version: base_report_request(
            version, request_id=request_id, report_base=report_base
        ),
    )
