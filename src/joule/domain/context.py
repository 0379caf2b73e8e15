"""What an inbound OCPP handler receives, and the registry of handlers per (family, action)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joule.kit.clock import Clock
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import Preload
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
    # What the dispatcher's step before the unit of work found (e.g. an authorization hook's
    # verdict): I/O that must not hold the group commit happens there.
    prepared: object | None = None


@dataclass(slots=True)
class StatelessContext:
    """A CALL whose answer needs no database (Heartbeat): no unit of work, no commit."""

    station_id: str
    version: OcppVersion
    received_at: datetime
    clock: Clock


Handler = Callable[[HandlerContext, Payload], Awaitable[Payload]]
StatelessHandler = Callable[[StatelessContext, Payload], Payload]
# What a handler will get by primary key, from (station id, payload): loaded once per batch.
Preloader = Callable[[str, Payload], Preload | None]

# (family, action) → handler; family is "1.6" or "2.x" (OcppVersion.family).
HANDLERS: dict[tuple[str, str], Handler] = {}
# Handlers that touch no data skip the group commit entirely (T2: Heartbeat at wire speed).
STATELESS: dict[tuple[str, str], StatelessHandler] = {}
PRELOADERS: dict[tuple[str, str], Preloader] = {}


def on(
    family: str, action: str, *, preload: Preloader | None = None
) -> Callable[[Handler], Handler]:
    """Register an inbound handler: `@on("1.6", "Heartbeat")`, optionally with its preloader."""

    def register(handler: Handler) -> Handler:
        key = (family, action)
        if key in HANDLERS:
            raise RuntimeError(f"two handlers for {key}")
        HANDLERS[key] = handler
        if preload is not None:
            PRELOADERS[key] = preload
        return handler

    return register


def on_stateless(family: str, action: str) -> Callable[[StatelessHandler], StatelessHandler]:
    """Register a handler that answers without reading or writing data."""

    def register(handler: StatelessHandler) -> StatelessHandler:
        key = (family, action)
        if key in STATELESS or key in HANDLERS:
            raise RuntimeError(f"two handlers for {key}")
        STATELESS[key] = handler
        return handler

    return register
