"""Commands to stations: each answers with the station's own answer payload.

Mapping of failures (api/errors.py): unknown station 404, not connected 409, no answer in time
504, CALLERROR 502 with the station's code, a request the station's version cannot express 422.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command import (
    AvailabilityCommand,
    ConfigurationCommand,
    RawResponse,
    ResetCommand,
    StartCommand,
    StopCommand,
    TriggerCommand,
    UnlockCommand,
)
from joule.domain.command.translate import VariableRef

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


@router.post("/stations/{station_id}/start")
async def start(
    station_id: str, body: StartCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """RemoteStartTransaction (1.6) / RequestStartTransaction (2.x) for an id token."""
    return await commands.start(
        station_id,
        operator=operator.email,
        uid=body.uid,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )


@router.post("/stations/{station_id}/stop")
async def stop(
    station_id: str, body: StopCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """RemoteStopTransaction (1.6) / RequestStopTransaction (2.x) by Joule's transaction id."""
    return await commands.stop(
        station_id, operator=operator.email, transaction_id=body.transaction_id
    )


@router.post("/stations/{station_id}/reset")
async def reset(
    station_id: str, body: ResetCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """Reset: 1.6 Hard/Soft ↔ 2.x Immediate/OnIdle, translated for the station's version."""
    return await commands.reset(
        station_id, operator=operator.email, type=body.type, evse_id=body.evse_id
    )


@router.post("/stations/{station_id}/unlock")
async def unlock(
    station_id: str, body: UnlockCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """UnlockConnector."""
    return await commands.unlock(
        station_id, operator=operator.email, evse_id=body.evse_id, connector_id=body.connector_id
    )


@router.post("/stations/{station_id}/availability")
async def availability(
    station_id: str, body: AvailabilityCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """ChangeAvailability of the station, an EVSE or a connector."""
    return await commands.availability(
        station_id,
        operator=operator.email,
        operative=body.operative,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )


@router.post("/stations/{station_id}/trigger")
async def trigger(
    station_id: str, body: TriggerCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """TriggerMessage (1.6 security messages: ExtendedTriggerMessage)."""
    return await commands.trigger(
        station_id,
        operator=operator.email,
        message=body.message,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )


@router.post("/stations/{station_id}/configuration")
async def configuration(
    station_id: str, body: ConfigurationCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """Set (with value) or read (without) configuration: ChangeConfiguration / SetVariables,
    GetConfiguration / GetVariables."""
    variable = (
        VariableRef(
            component=body.component,
            variable=body.variable,
            component_instance=body.component_instance,
            variable_instance=body.variable_instance,
            evse_id=body.evse_id,
            connector_id=body.connector_id,
        )
        if body.component is not None and body.variable is not None
        else None
    )
    if body.value is not None:
        return await commands.set_configuration(
            station_id, operator=operator.email, value=body.value, key=body.key, variable=variable
        )
    return await commands.get_configuration(
        station_id,
        operator=operator.email,
        keys=body.keys or [],
        variables=[variable] if variable is not None else [],
    )


@router.post("/stations/{station_id}/ocpp/{action}")
async def raw(
    station_id: str,
    action: str,
    payload: Annotated[dict[str, Any], Body(description="the request payload, as OCPP defines it")],
    operator: CommandOperator,
    commands: Commands,
) -> RawResponse:
    """Any CSMS request of the station's version, validated against its schema before sending."""
    response = await commands.raw(
        station_id, operator=operator.email, action=action, payload=payload
    )
    return RawResponse(response=response)
