"""Live updates: bus events fanned out to the open pages as Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from joule.bus.port import EventBus
from joule.domain import events
from joule.domain.alerting.service import AlertChanged
from joule.web.fmt import jsonable

QUEUE_SIZE = 256  # per open page; a page that falls this far behind is told to resync
KEEPALIVE_S = 15.0  # a comment line keeps proxies from closing an idle stream
MAX_STREAM_S = 300.0  # the browser reconnects (and re-authenticates) after this long
RETRY_MS = 1000

# The events a dashboard shows; everything else on the bus is not the browser's business.
SHOWN: tuple[type[object], ...] = (
    events.StationConnected,
    events.StationDisconnected,
    events.StationBooted,
    events.ConnectorStatusChanged,
    events.TransactionStarted,
    events.TransactionUpdated,
    events.TransactionEnded,
    events.SecurityEventReceived,
    events.MeterValuesReceived,
    AlertChanged,
)


def encode(event: object) -> tuple[str, str, str] | None:
    """(station id, SSE event name, JSON data) for a shown event; None for the others."""
    if not isinstance(event, SHOWN) or not dataclasses.is_dataclass(event):
        return None
    fields = {f.name: jsonable(getattr(event, f.name)) for f in dataclasses.fields(event)}
    # An AlertChanged carries its station inside the alert; a station's page shows its alerts.
    alert = fields.get("alert")
    about: dict[str, Any] = alert if isinstance(alert, dict) else fields
    station_id = str(about.get("station_id") or "")
    return station_id, type(event).__name__, json.dumps(fields, separators=(",", ":"))


def site_of(event: object) -> str:
    """The site an event is about when it names one (a site-wide alert has no station)."""
    alert = getattr(event, "alert", None)
    return str(alert.get("site_id") or "") if isinstance(alert, dict) else ""


@dataclass(frozen=True, slots=True)
class Visibility:
    """The stations and sites whose events an operator may receive (its scope, issue 5).

    Read when the page opens its stream; a stream lives at most MAX_STREAM_S, so a station that
    joins or leaves the operator's organisation is followed within minutes on reconnect.
    """

    station_ids: frozenset[str]
    site_ids: frozenset[str]

    def allows(self, station_id: str, site_id: str) -> bool:
        """True when the event is about a visible station, or a visible site without a station;
        fleet-wide events (neither) belong to no organisation: root operators only."""
        if station_id:
            return station_id in self.station_ids
        return bool(site_id) and site_id in self.site_ids


class Stream:
    """One open page's queue of SSE messages, filtered to one station or the whole fleet (cut to
    the operator's scope: `visible` None means every station, a root operator)."""

    def __init__(self, station_id: str | None, visible: Visibility | None = None) -> None:
        self.station_id = station_id
        self.visible = visible
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self.lagging = False

    def offer(self, station_id: str, message: str, site_id: str = "") -> None:
        """Queue a message for this page unless it is about another station, or about a station
        or site outside the operator's scope."""
        if self.station_id is not None and station_id != self.station_id:
            return
        if self.visible is not None and not self.visible.allows(station_id, site_id):
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Never block the bus for a slow browser: drop, and have the page reload its state.
            self.lagging = True

    def end(self) -> None:
        """Finish the stream (shutdown)."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


def sse(event: str, data: str) -> str:
    """One Server-Sent Events message (data is one JSON line, so one data field)."""
    return f"event: {event}\ndata: {data}\n\n"


class LiveHub:
    """Subscribes once to the bus and feeds every open page's stream."""

    def __init__(self) -> None:
        self._streams: set[Stream] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self.closed = False

    def attach(self, bus: EventBus) -> None:
        """Subscribe to the bus (once)."""
        if self._unsubscribe is None:
            self._unsubscribe = bus.subscribe(self._on_event)

    async def _on_event(self, event: object) -> None:
        if not self._streams:
            return  # no page is open: every meter value's JSON would be thrown away (T3)
        encoded = encode(event)
        if encoded is None:
            return
        station_id, name, data = encoded
        message, site_id = sse(name, data), site_of(event)
        for stream in list(self._streams):
            stream.offer(station_id, message, site_id)

    def open(self, station_id: str | None, visible: Visibility | None = None) -> Stream:
        """A new stream for a page, limited to the stations and sites of `visible` (None: all)."""
        stream = Stream(station_id, visible)
        self._streams.add(stream)
        return stream

    def discard(self, stream: Stream) -> None:
        """Forget a finished stream."""
        self._streams.discard(stream)

    @property
    def open_streams(self) -> int:
        """How many pages are listening now."""
        return len(self._streams)

    def close(self) -> None:
        """End every stream and unsubscribe, so a server shutdown is not held open by pages."""
        self.closed = True
        for stream in list(self._streams):
            stream.end()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def messages(self, stream: Stream) -> AsyncIterator[str]:
        """The SSE body of one stream: a hello, events as they come, keep-alives, then the end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_STREAM_S
        try:
            yield f"retry: {RETRY_MS}\n\n"
            yield sse("hello", json.dumps({"station_id": stream.station_id}))
            while not self.closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:
                    message = await asyncio.wait_for(
                        stream.queue.get(), timeout=min(KEEPALIVE_S, remaining)
                    )
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if message is None:
                    return
                if stream.lagging:
                    stream.lagging = False
                    yield sse("resync", "{}")
                yield message
        finally:
            self.discard(stream)
