"""Display messages (O01–O05) and customer information (N09/N10), 2.0.1 and later.

The station answers GetDisplayMessages and CustomerInformation at once and sends the content
afterwards (NotifyDisplayMessages / NotifyCustomerInformation, kept as station reports by
domain/device/handlers.py); the requestId ties the two together.
"""

from __future__ import annotations

from typing import Any

from joule.domain.command.service import CommandService, fixed, new_request_id
from joule.domain.command.translate import Payload
from joule.domain.command.translate_messages import (
    DisplayMessage,
    clear_display_message_request,
    customer_information_request,
    get_display_messages_request,
    set_display_message_request,
)

ACCEPTED = "Accepted"


async def set_display_message(
    commands: CommandService, station_id: str, *, operator: str, message: DisplayMessage
) -> Payload:
    """SetDisplayMessage (O01/O02)."""
    build = fixed(lambda version: set_display_message_request(version, message=message))
    params = {"id": message.id, "priority": message.priority, "content": message.content}
    return await commands.send(station_id, operator, "set_display_message", params, build)


async def get_display_messages(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    ids: list[int] | None = None,
    priority: str | None = None,
    state: str | None = None,
) -> Payload:
    """GetDisplayMessages (O03), then the messages the station reports for it.

    The answer is the station's (`status` Accepted or Unknown) with `requestId`, the messages
    from its NotifyDisplayMessages parts, and whether every part arrived within the call timeout.
    """
    request_id = new_request_id()
    build = fixed(
        lambda version: get_display_messages_request(
            version, request_id=request_id, ids=ids, priority=priority, state=state
        )
    )
    params = {"ids": ids, "priority": priority, "state": state}
    answer = await commands.send(station_id, operator, "get_display_messages", params, build)
    messages: list[Any] = []
    complete = True
    if answer.get("status") == ACCEPTED:
        parts, complete = await commands.wait_reports(
            station_id, action="NotifyDisplayMessages", request_id=request_id
        )
        messages = [info for part in parts for info in part.get("messageInfo") or ()]
    return {**answer, "requestId": request_id, "messages": messages, "complete": complete}


async def clear_display_message(
    commands: CommandService, station_id: str, *, operator: str, message_id: int
) -> Payload:
    """ClearDisplayMessage (O05)."""
    build = fixed(lambda version: clear_display_message_request(version, message_id=message_id))
    params = {"id": message_id}
    return await commands.send(station_id, operator, "clear_display_message", params, build)


async def customer_information(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    report: bool,
    clear: bool,
    customer_identifier: str | None = None,
    uid: str | None = None,
    token_type: str | None = None,
    certificate: Payload | None = None,
) -> Payload:
    """CustomerInformation (N09 report / N10 clear); `requestId` names the report parts."""
    request_id = new_request_id()
    build = fixed(
        lambda version: customer_information_request(
            version,
            request_id=request_id,
            report=report,
            clear=clear,
            customer_identifier=customer_identifier,
            uid=uid,
            token_type=token_type,
            certificate=certificate,
        )
    )
    params = {"report": report, "clear": clear}
    answer = await commands.send(station_id, operator, "customer_information", params, build)
    return {**answer, "requestId": request_id}


async def customer_information_report(
    commands: CommandService, station_id: str, *, request_id: int
) -> Payload:
    """The NotifyCustomerInformation parts received for a request, joined in seqNo order."""
    parts = await commands.reports(
        station_id, action="NotifyCustomerInformation", request_id=request_id
    )
    ordered = sorted(parts, key=lambda part: int(part.get("seqNo", 0)))
    return {
        "requestId": request_id,
        "data": "".join(str(part.get("data", "")) for part in ordered),
        "parts": len(ordered),
        "complete": bool(ordered) and not ordered[-1].get("tbc", False),
    }
