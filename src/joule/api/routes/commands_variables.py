"""2.x device-model variables first-class: get, set, base report (1.6: full configuration)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command_variables import (
    BaseReportCommand,
    GetVariablesCommand,
    SetVariablesCommand,
    VariableName,
)
from joule.domain.command import variables
from joule.domain.command.translate import VariableRef
from joule.domain.command.translate_variables import VariableValue

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


def _ref(name: VariableName) -> VariableRef:
    return VariableRef(
        component=name.component,
        variable=name.variable,
        component_instance=name.component_instance,
        variable_instance=name.variable_instance,
        evse_id=name.evse_id,
        connector_id=name.connector_id,
    )


@router.post("/stations/{station_id}/variables/get")
async def get_variables(
    station_id: str, body: GetVariablesCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """GetVariables (2.x): the station's `getVariableResult`."""
    return await variables.get_variables(
        commands,
        station_id,
        operator=operator.email,
        variables=[(_ref(v), v.attribute_type) for v in body.variables],
    )


@router.post("/stations/{station_id}/variables/set")
async def set_variables(
    station_id: str, body: SetVariablesCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """SetVariables (2.x): the station's `setVariableResult`."""
    return await variables.set_variables(
        commands,
        station_id,
        operator=operator.email,
        values=[VariableValue(_ref(v), v.value, v.attribute_type) for v in body.variables],
    )


@router.post("/stations/{station_id}/base-report")
async def base_report(
    station_id: str, body: BaseReportCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """GetBaseReport (2.x, NotifyReport parts follow under `requestId`) / 1.6 GetConfiguration
    of every key (the keys come in the answer)."""
    return await variables.base_report(
        commands, station_id, operator=operator.email, report_base=body.report_base
    )
