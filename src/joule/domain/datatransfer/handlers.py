"""Inbound DataTransfer for OCPP 1.6 and 2.x."""

from __future__ import annotations

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.datatransfer import service
from joule.domain.datatransfer.rules import reply_data_16


@on("1.6", "DataTransfer")
async def on_data_transfer_16(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 DataTransfer (§4.3): vendor-specific data, answered by the vendor's handler."""
    reply = await service.receive(
        ctx,
        vendor_id=payload["vendorId"],
        message_id=payload.get("messageId"),
        data=payload.get("data"),
    )
    response: Payload = {"status": reply.status}
    data = reply_data_16(reply.data)
    if data is not None:
        response["data"] = data
    return response


@on("2.x", "DataTransfer")
async def on_data_transfer_2x(ctx: HandlerContext, payload: Payload) -> Payload:
    """2.x DataTransfer (P02): vendor-specific data of any JSON type."""
    reply = await service.receive(
        ctx,
        vendor_id=payload["vendorId"],
        message_id=payload.get("messageId"),
        data=payload.get("data"),
    )
    response: Payload = {"status": reply.status}
    if reply.data is not None:
        response["data"] = reply.data
    return response
