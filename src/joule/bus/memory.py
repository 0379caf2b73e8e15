"""The in-process bus adapter: every arrow is a function call (role `all`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from joule.bus.envelopes import StationCall
from joule.bus.port import EventHandler, Subscription

log = logging.getLogger(__name__)

CallDispatcher = Callable[[StationCall], Awaitable[dict[str, Any]]]


class MemoryBus:
    """Routes station calls to the dispatcher and fans domain events out to subscribers."""

    def __init__(self) -> None:
        self._dispatcher: CallDispatcher | None = None
        self._subscribers: list[Subscription] = []
        # Event type → the handlers that take it, in subscription order; rebuilt on (un)subscribe.
        # A MeterValues publishes two events: each now reaches only the subscribers that want
        # it (the live pages), not every subscriber's coroutine (T3).
        self._routes: dict[type, tuple[EventHandler, ...]] = {}

    def bind_dispatcher(self, dispatcher: CallDispatcher) -> None:
        """Attach the core's dispatcher (done once by the runtime)."""
        self._dispatcher = dispatcher

    async def dispatch(self, call: StationCall) -> dict[str, Any]:
        """Hand a station's CALL to the core and return the CALLRESULT payload."""
        if self._dispatcher is None:
            raise RuntimeError("no dispatcher bound to the bus")
        return await self._dispatcher(call)

    async def publish(self, event: object) -> None:
        """Deliver an event to every subscriber that takes its type; a failing subscriber never
        hurts the others."""
        kind = type(event)
        handlers = self._routes.get(kind)
        if handlers is None:
            handlers = self._routes[kind] = tuple(
                handler
                for handler, events in self._subscribers
                if events is None or issubclass(kind, events)
            )
        for handler in handlers:
            try:
                await handler(event)
            except Exception:
                log.exception("event subscriber failed for %s", kind.__name__)

    def subscribe(
        self, handler: EventHandler, events: tuple[type, ...] | None = None
    ) -> Callable[[], None]:
        """Subscribe to events of these types (None: every event); returns an unsubscribe."""
        subscription: Subscription = (handler, events)
        self._subscribers.append(subscription)
        self._routes.clear()

        def unsubscribe() -> None:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
                self._routes.clear()

        return unsubscribe

    async def idle(self) -> None:
        """Yield once so queued work can run (tests)."""
        await asyncio.sleep(0)
