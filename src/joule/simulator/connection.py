"""A station's connection to the CSMS: connect with back-off, boot once per power-up, heartbeat.

P4 §5.3: after a lost link the station waits RetryBackOffWaitMinimum + random(0..
RetryBackOffRandomRange) and doubles the wait on every failed attempt, at most
RetryBackOffRepeatTimes times. J16 §5.4: a reconnect is no reboot, so BootNotification is sent
once per power-up; until it is Accepted nothing else is sent (B01.FR.08), and Pending or Rejected
are waited out by the interval the CSMS gave (B02.FR.01, B03.FR.01).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from joule.simulator import quirks as q
from joule.simulator.backoff import reconnect_delay_s
from joule.simulator.configuration import ConfigStore
from joule.simulator.dialect import Dialect, StationInfo, read_boot
from joule.simulator.link import (
    CallErrorReceived,
    InboundHandler,
    Link,
    LinkClosed,
    open_socket,
)
from joule.simulator.model import Counters
from joule.simulator.outbox import Outbox

log = logging.getLogger(__name__)

BOOT_RETRY_S = 30.0  # a BootNotification without an answer, or an interval of 0
REBOOT_S = 2.0  # how long a reboot keeps the station away


@dataclass
class Identity:
    """Who connects where, and how."""

    url: str
    station_id: str
    quirks: frozenset[str]
    check_schemas: bool = True


class Connection:
    """The WebSocket side of one station."""

    def __init__(
        self,
        identity: Identity,
        *,
        dialect: Dialect,
        config: ConfigStore,
        counters: Counters,
        outbox: Outbox,
        handler: InboundHandler,
        info: Callable[[], StationInfo],
        on_linked: Callable[[bool], None],
        on_clock: Callable[[], None],
        rng: random.Random,
    ) -> None:
        self.identity = identity
        self.dialect = dialect
        self.config = config
        self.counters = counters
        self.outbox = outbox
        self._handler = handler
        self._info = info
        self._on_linked = on_linked  # called with True after a boot, False after a reconnect
        self._on_clock = on_clock
        self._rng = rng
        self.link: Link | None = None
        self.boot_status: str | None = None
        self.booted = asyncio.Event()  # this power-up's boot was Accepted
        self.needs_boot = True
        self.boot_reason = "PowerUp"
        self.rebooting = False
        self.offline = False  # the network is down
        self.stopping = False

    def _backoff(self, attempt: int) -> float:
        return reconnect_delay_s(
            attempt,
            wait_minimum_s=float(self.config.get_int("RetryBackOffWaitMinimum")),
            random_range_s=float(self.config.get_int("RetryBackOffRandomRange")),
            repeat_times=self.config.get_int("RetryBackOffRepeatTimes"),
            rng=self._rng,
        )

    async def run(self) -> None:
        """Stay connected until stopped."""
        attempt = 0
        while not self.stopping:
            try:
                if self.offline:
                    raise OSError("the network is down")
                ws = await self._open()
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.counters.connect_failures += 1
                log.debug("%s: connect failed: %s", self.identity.station_id, exc)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            await self._session(ws)
            if self.stopping:
                return
            if self.rebooting:
                await asyncio.sleep(REBOOT_S)  # a reboot reconnects at once, without back-off
                self.rebooting = False
                attempt = 0
                continue
            await asyncio.sleep(self._backoff(0))  # the first attempt after a lost link
            attempt = 1

    async def _open(self) -> ClientConnection:
        ident = self.identity
        version = self.dialect.version
        ws = await open_socket(
            ident.url,
            ident.station_id,
            version=version,
            password=self.config.get("AuthorizationKey") or None,
            offer_subprotocol=q.NO_SUBPROTOCOL not in ident.quirks,
            answer_pings=q.NO_PING_REPLIES not in ident.quirks,
            ping_interval_s=float(self.config.get_int("WebSocketPingInterval")) or None,
        )
        if ws.subprotocol is not None and ws.subprotocol != version.subprotocol:
            await ws.close(1002, "subprotocol not offered")
            raise OSError(f"the CSMS chose {ws.subprotocol}")
        return ws

    async def _session(self, ws: ClientConnection) -> None:
        link = Link(
            ws,
            self.dialect.version,
            on_call=self._handler,
            counters=self.counters,
            check_schemas=self.identity.check_schemas,
        )
        self.link = link
        reader = asyncio.get_running_loop().create_task(link.run())
        if self.counters.connects:
            self.counters.reconnects += 1
        self.counters.connects += 1
        try:
            booting = self.needs_boot
            if booting and not await self._boot(link):
                return
            self.outbox.attach(link)
            self._on_linked(booting)
            await link.wait_closed()
        finally:
            self.outbox.detach()
            self.link = None
            if not link.closed:
                link.abort()
            with contextlib.suppress(Exception):
                await reader

    async def _boot(self, link: Link) -> bool:
        """BootNotification until Accepted; Pending and Rejected wait out their interval."""
        while not link.closed:
            self.counters.boots += 1
            out = self.dialect.boot(self._info(), self.boot_reason)
            try:
                result = await self.outbox.call_on(link, out)
            except LinkClosed:
                return False
            except (CallErrorReceived, TimeoutError):
                await _wait_or_closed(link, BOOT_RETRY_S)
                continue
            answer = read_boot(result)
            self.boot_status = answer.status
            if answer.status == "Accepted":
                if answer.interval_s > 0:
                    self.config.put("HeartbeatInterval", answer.interval_s)
                self._on_clock()  # the CSMS's currentTime sets the clock (Q8)
                self.needs_boot = False
                self.boot_reason = "PowerUp"
                self.counters.booted = 1
                self.booted.set()
                return True
            await _wait_or_closed(link, float(answer.interval_s) or BOOT_RETRY_S)
        return False

    async def heartbeats(self) -> None:
        """Heartbeat after HeartbeatInterval without any other exchange."""
        while True:
            await self.outbox.online.wait()
            interval = self.config.get_int("HeartbeatInterval")
            if interval <= 0:
                await asyncio.sleep(5.0)
                continue
            idle = time.monotonic() - self.outbox.last_activity
            if idle < interval:
                await asyncio.sleep(min(interval - idle, 5.0))
                continue
            await self.send_heartbeat()

    async def send_heartbeat(self) -> None:
        """Heartbeat now; its currentTime sets the clock."""
        if await self.outbox.send(self.dialect.heartbeat()) is not None:
            self._on_clock()

    async def restart(self, boot_reason: str) -> None:
        """Close for a reboot: the loop comes back at once and boots with this reason."""
        self.needs_boot = True
        self.boot_reason = boot_reason
        self.rebooting = True
        self.booted.clear()
        await self.close_link("rebooting")

    async def close_link(self, reason: str) -> None:
        """Close the current link cleanly, if any."""
        link = self.link
        if link is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.close(1000, reason), 5)

    def abort(self) -> None:
        """Drop the current link without a close frame."""
        if self.link is not None:
            self.link.abort()


async def _wait_or_closed(link: Link, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(link.wait_closed(), seconds)
