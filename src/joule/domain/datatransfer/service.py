"""DataTransfer intent verbs: route to a vendor handler, keep the exchange (size-capped)."""

from __future__ import annotations

from typing import Any

from joule.domain.context import HandlerContext
from joule.domain.datatransfer.rules import stored_data
from joule.domain.datatransfer.vendors import VendorReply, vendor_handler
from joule.storage.repositories import station as repo

UNKNOWN_VENDOR_ID = "UnknownVendorId"


async def receive(
    ctx: HandlerContext, *, vendor_id: str, message_id: str | None, data: Any
) -> VendorReply:
    """Answer a station's DataTransfer and keep it; UnknownVendorId for unknown vendors."""
    handler = vendor_handler(vendor_id)
    if handler is None:
        # P02 / 1.6 §4.3: no extension for this vendor → UnknownVendorId, no data (TC_P_02_CSMS).
        reply = VendorReply(status=UNKNOWN_VENDOR_ID)
    else:
        reply = await handler(ctx, message_id, data)
    repo.add_data_transfer(
        ctx.uow.session,
        station_id=ctx.station_id,
        direction="in",
        vendor_id=vendor_id[:255],
        message_id=message_id[:64] if message_id is not None else None,
        data=stored_data(data),
        status=reply.status,
        at=ctx.received_at,
    )
    return reply
