"""The bus port: how rooms (and later nodes) talk. Adapters: memory.py (in-process)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Payload = dict[str, Any]
EventHandler = Callable[[object], Awaitable[None]]
Subscription = tuple[EventHandler, tuple[type, ...] | None]  # handler, the event types it takes


class CommandSender(Protocol):
    """Sends a CSMS-initiated CALL to a station, wherever its socket is held.

    Raises kit.errors.StationOffline when no gateway holds the station, StationTimeout when
    the station does not answer within `timeout`, StationCallError when it answers CALLERROR.
    Returns the CALLRESULT payload. `message_id` lets the caller correlate (audit log).
    """

    async def call(
        self, station_id: str, action: str, payload: Payload, *, timeout: float, message_id: str
    ) -> Payload: ...

    def is_connected(self, station_id: str) -> bool: ...


class EventBus(Protocol):
    """Domain events, published after commit (dashboard, billing, load manager subscribe)."""

    async def publish(self, event: object) -> None: ...

    def subscribe(
        self, handler: EventHandler, events: tuple[type, ...] | None = None
    ) -> Callable[[], None]: ...
