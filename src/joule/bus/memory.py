"""The in-process bus adapter: every arrow is a function call (role `all`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from joule.bus.envelopes import StationCall
from joule.bus.port import EventHandler

log = logging.getLogger(__name__)

CallDispatcher = Callable[[StationCall], Awaitable[dict[str, Any]]]


class MemoryBus:
    """Routes station calls to the dispatcher and fans domain events out to subscribers."""

    def __init__(self) -> None:
        self._dispatcher: CallDispatcher | None = None
        self._subscribers: list[EventHandler] = []

    def bind_dispatcher(self, dispatcher: CallDispatcher) -> None:
        """Attach the core's dispatcher (done once by the runtime)."""
        self._dispatcher = dispatcher

    async def dispatch(self, call: StationCall) -> dict[str, Any]:
        """Hand a station's CALL to the core and return the CALLRESULT payload."""
        if self._dispatcher is None:
            raise RuntimeError("no dispatcher bound to the bus")
        return await self._dispatcher(call)

    async def publish(self, event: object) -> None:
        """Deliver an event to every subscriber; a failing subscriber never hurts the others."""
        for handler in list(self._subscribers):
            try:
                await handler(event)
            except Exception:
                log.exception("event subscriber failed for %s", type(event).__name__)

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Subscribe to every event; returns an unsubscribe function."""
        self._subscribers.append(handler)

        def unsubscribe() -> None:
            if handler in self._subscribers:
                self._subscribers.remove(handler)

        return unsubscribe

    async def idle(self) -> None:
        """Yield once so queued work can run (tests)."""
        await asyncio.sleep(0)
