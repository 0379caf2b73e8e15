"""Display messages and customer information (2.0.1 and later; 422 for a 1.6 station)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command_messages import (
    CustomerInformationCommand,
    DisplayMessageCommand,
    Priority,
    State,
)
from joule.domain.command import messages
from joule.domain.command.service import new_request_id
from joule.domain.command.translate_messages import DisplayMessage

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


@router.post("/stations/{station_id}/display-messages")
async def set_display_message(
    station_id: str, body: DisplayMessageCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """SetDisplayMessage; the answer carries the message `id` (Joule picks one if none given)."""
    message = DisplayMessage(
        id=body.id if body.id is not None else new_request_id(),
        content=body.content,
        priority=body.priority,
        format=body.format,
        language=body.language,
        state=body.state,
        start_at=body.start_at,
        end_at=body.end_at,
        transaction_id=body.transaction_id,
    )
    answer = await messages.set_display_message(
        commands, station_id, operator=operator.email, message=message
    )
    return {**answer, "id": message.id}


@router.get("/stations/{station_id}/display-messages")
async def get_display_messages(
    station_id: str,
    operator: CommandOperator,
    commands: Commands,
    id: Annotated[list[int] | None, Query(description="only these message ids")] = None,
    priority: Annotated[Priority | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
) -> Answer:
    """GetDisplayMessages, then the messages from the NotifyDisplayMessages that follow:
    `{status, requestId, messages, complete}`."""
    return await messages.get_display_messages(
        commands, station_id, operator=operator.email, ids=id, priority=priority, state=state
    )


@router.delete("/stations/{station_id}/display-messages/{message_id}")
async def clear_display_message(
    station_id: str, message_id: int, operator: CommandOperator, commands: Commands
) -> Answer:
    """ClearDisplayMessage: `Accepted` or `Unknown`."""
    return await messages.clear_display_message(
        commands, station_id, operator=operator.email, message_id=message_id
    )


@router.post("/stations/{station_id}/customer-information")
async def customer_information(
    station_id: str,
    body: CustomerInformationCommand,
    operator: CommandOperator,
    commands: Commands,
) -> Answer:
    """CustomerInformation (report and/or clear); the report parts follow under `requestId`."""
    certificate = (
        {
            "hashAlgorithm": body.certificate.hash_algorithm,
            "issuerNameHash": body.certificate.issuer_name_hash,
            "issuerKeyHash": body.certificate.issuer_key_hash,
            "serialNumber": body.certificate.serial_number,
        }
        if body.certificate is not None
        else None
    )
    return await messages.customer_information(
        commands,
        station_id,
        operator=operator.email,
        report=body.report,
        clear=body.clear,
        customer_identifier=body.customer_identifier,
        uid=body.uid,
        token_type=body.token_type,
        certificate=certificate,
    )


@router.get("/stations/{station_id}/customer-information/{request_id}")
async def customer_information_report(
    station_id: str, request_id: int, operator: CommandOperator, commands: Commands
) -> Answer:
    """What the station reported (NotifyCustomerInformation parts, joined): `{requestId, data,
    parts, complete}`."""
    return await messages.customer_information_report(commands, station_id, request_id=request_id)
