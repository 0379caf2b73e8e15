"""The registry of vendor-specific DataTransfer handlers (P01/P02; 1.6 §4.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joule.domain.context import HandlerContext

UNKNOWN_MESSAGE_ID = "UnknownMessageId"


@dataclass(frozen=True, slots=True)
class VendorReply:
    """A vendor handler's answer: Accepted | Rejected | UnknownMessageId, with optional data."""

    status: str
    data: Any = None


# A vendor handler runs inside the unit of work, so it may only touch the database (it can run
# twice when a batch is retried); message_id and data are the station's, data uncapped.
VendorHandler = Callable[[HandlerContext, str | None, Any], Awaitable[VendorReply]]
MessageHandler = Callable[[HandlerContext, Any], Awaitable[VendorReply]]

_VENDORS: dict[str, VendorHandler] = {}


def _key(vendor_id: str) -> str:
    # vendorId is a reversed DNS name; DNS names are case-insensitive.
    return vendor_id.casefold()


def register_vendor(vendor_id: str, handler: VendorHandler) -> None:
    """Handle DataTransfer for `vendor_id` with `handler` (one handler per vendor)."""
    key = _key(vendor_id)
    if key in _VENDORS:
        raise RuntimeError(f"two DataTransfer handlers for vendor {vendor_id!r}")
    _VENDORS[key] = handler


def unregister_vendor(vendor_id: str) -> None:
    """Forget the handler of `vendor_id` (no error when there is none)."""
    _VENDORS.pop(_key(vendor_id), None)


def vendor_handler(vendor_id: str) -> VendorHandler | None:
    """The handler registered for `vendor_id`, or None."""
    return _VENDORS.get(_key(vendor_id))


def by_message_id(routes: Mapping[str, MessageHandler]) -> VendorHandler:
    """A vendor handler that routes on messageId and answers UnknownMessageId for the rest."""
    table = dict(routes)

    async def handle(ctx: HandlerContext, message_id: str | None, data: Any) -> VendorReply:
        route = table.get(message_id) if message_id is not None else None
        if route is None:
            return VendorReply(status=UNKNOWN_MESSAGE_ID)
        return await route(ctx, data)

    return handle
