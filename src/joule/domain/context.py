"""What an inbound OCPP handler receives, and the registry of handlers per (family, action)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joule.kit.clock import Clock
from joule.ocpp.versions import OcppVersion
from joule.storage.uow import UnitOfWork

Payload = dict[str, Any]


@dataclass(slots=True)
class HandlerContext:
    """One inbound CALL being handled inside a unit of work."""

    station_id: str
    version: OcppVersion
    message_id: str
    received_at: datetime  # CSMS receive time, UTC
    uow: UnitOfWork
    clock: Clock
    # Per-station options read once per connection (timezone for Q7, quirk flags …)
    station_timezone: str | None = None


Handler = Callable[[HandlerContext, Payload], Awaitable[Payload]]

# (family, action) → handler; family is "1.6" or "2.x" (OcppVersion.family).
HANDLERS: dict[tuple[str, str], Handler] = {}


def on(family: str, action: str) -> Callable[[Handler], Handler]:
    """Register an inbound handler: `@on("1.6", "Heartbeat")`."""

    def register(handler: Handler) -> Handler:
        key = (family, action)
        if key in HANDLERS:
            raise RuntimeError(f"two handlers for {key}")
        HANDLERS[key] = handler
        return handler

    return register
