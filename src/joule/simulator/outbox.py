"""How a station's messages reach the CSMS: in order, retried, queued while offline.

Transaction messages (Start/Stop/MeterValues of a transaction, TransactionEvent) are queued and
delivered in order even across disconnects and reboots (C16 §3.7, E04.FR.01/02); one that gets a
CALLERROR or no answer is retried after TransactionMessageRetryInterval × attempts and discarded
after TransactionMessageAttempts (C16 §3.7.1, E13.FR.01–04). Everything else goes out in order
while online and is dropped while offline (statuses are resent on reconnect by the station).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from joule.ocpp.errors import OcppError
from joule.ocpp.frames import encode_call
from joule.ocpp.validation import validate
from joule.simulator.backoff import transaction_retry_delay_s
from joule.simulator.configuration import ConfigStore
from joule.simulator.dialect import Dialect, Outgoing, TxAnswer, TxMessage
from joule.simulator.link import CallErrorReceived, Link, LinkClosed
from joule.simulator.model import Counters
from joule.simulator.quirks import apply_quirks

log = logging.getLogger(__name__)

Payload = dict[str, Any]
TxListener = Callable[[TxMessage, TxAnswer], None]
PostListener = Callable[[Payload | None], None]


class Outbox:
    """The station's two message streams over whatever link is up."""

    def __init__(
        self,
        *,
        station_id: str,
        dialect: Dialect,
        config: ConfigStore,
        counters: Counters,
        quirks: frozenset[str] = frozenset(),
        check_schemas: bool = True,
    ) -> None:
        self.station_id = station_id
        self.dialect = dialect
        self._config = config
        self._counters = counters
        self._quirks = quirks
        self._check_schemas = check_schemas
        self._link: Link | None = None
        self.online = asyncio.Event()  # linked and the boot was Accepted
        self._queue: deque[TxMessage] = deque()
        self._queued = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.on_tx_answer: TxListener | None = None
        self.last_activity = time.monotonic()
        self._posts: deque[tuple[Outgoing, PostListener | None]] = deque()
        self._posted = asyncio.Event()
        self._posts_idle = asyncio.Event()
        self._posts_idle.set()

    # -- link --------------------------------------------------------------------------------

    def attach(self, link: Link) -> None:
        """The link is up and the boot Accepted: start delivering."""
        self._link = link
        self.online.set()

    def detach(self) -> None:
        """The link is gone: hold transaction messages, drop the rest."""
        self._link = None
        self.online.clear()

    @property
    def timeout_s(self) -> float:
        """How long to wait for an answer (OCPPCommCtrlr.MessageTimeout)."""
        return float(self._config.get_int("MessageTimeout"))

    def prepare(self, action: str, payload: Payload) -> Payload:
        """Check our own message against the schema, then bend it by the station's quirks."""
        if self._check_schemas:
            # What the CSMS will see: Decimals become JSON numbers on the wire.
            wire = json.loads(encode_call("check", action, payload))[3]
            try:
                validate(self.dialect.version, action, "request", wire)
            except OcppError as exc:
                self._counters.invalid_sent += 1
                log.error("%s: our %s breaks the schema: %s", self.station_id, action, exc)
        if self._quirks:
            payload = apply_quirks(
                self._quirks, self.dialect.version, action, copy.deepcopy(payload)
            )
        return payload

    async def call_on(self, link: Link, out: Outgoing) -> Payload:
        """Send one CALL on this link now (boot, before the station is online); may raise."""
        result = await link.call(
            out.action, self.prepare(out.action, out.payload), timeout=self.timeout_s
        )
        self.last_activity = time.monotonic()
        return result

    async def send(self, out: Outgoing) -> Payload | None:
        """Send a non-transaction message if online; None when offline or it failed."""
        link = self._link
        if link is None or not self.online.is_set():
            return None
        try:
            return await self.call_on(link, out)
        except (LinkClosed, CallErrorReceived, TimeoutError):
            return None

    def post(self, out: Outgoing, on_result: PostListener | None = None) -> None:
        """Send a non-transaction message soon, after those posted before it."""
        self._posts.append((out, on_result))
        self._posts_idle.clear()
        self._posted.set()

    async def run_posts(self) -> None:
        """Deliver posted messages in order (dropped while offline: on_result gets None)."""
        while True:
            if not self._posts:
                self._posts_idle.set()
                self._posted.clear()
                await self._posted.wait()
                continue
            out, on_result = self._posts[0]
            result = await self.send(out)
            self._posts.popleft()
            if on_result is not None:
                on_result(result)

    # -- transaction messages ----------------------------------------------------------------

    def push(self, message: TxMessage) -> None:
        """Queue a transaction message behind the others."""
        self._queue.append(message)
        self._counters.queued = len(self._queue)
        self._idle.clear()
        self._queued.set()

    def waiting(self) -> list[tuple[str, Payload]]:
        """Every message not yet sent, as (action, payload): transaction messages first."""
        queued = [(m.action, m.render()) for m in self._queue]
        return queued + [(out.action, out.payload) for out, _ in self._posts]

    def pending_for(self, transaction_id: str) -> int:
        """Messages of this transaction still waiting (2.x GetTransactionStatus, E14)."""
        return sum(1 for m in self._queue if m.session.transaction_id == transaction_id)

    def __len__(self) -> int:
        return len(self._queue)

    async def drained(self) -> None:
        """Return once every queued message has been delivered (or discarded, or dropped)."""
        await self._idle.wait()
        await self._posts_idle.wait()

    async def run(self) -> None:
        """Deliver transaction messages forever, oldest first."""
        while True:
            if not self._queue:
                self._idle.set()
                self._queued.clear()
                await self._queued.wait()
                continue
            await self.online.wait()
            link = self._link
            if link is None:
                continue
            message = self._queue[0]
            try:
                payload = self.prepare(message.action, message.render())
                result = await link.call(message.action, payload, timeout=self.timeout_s)
            except LinkClosed:
                # Undelivered: it stays first until a new link is up (the station detaches
                # the dead one as soon as its reader ends).
                await link.wait_closed()
                await asyncio.sleep(0.05)
                continue
            except (CallErrorReceived, TimeoutError):
                await self._failed(message)
                continue
            self.last_activity = time.monotonic()
            self._queue.popleft()
            self._counters.queued = len(self._queue)
            if self.on_tx_answer is not None:
                self.on_tx_answer(message, self.dialect.read_tx(message, result))

    async def _failed(self, message: TxMessage) -> None:
        message.attempts += 1
        attempts = self._config.get_int("TransactionMessageAttempts")
        if message.attempts >= attempts:
            # C16 §3.7.1 / E13.FR.04: after the last attempt the message is discarded.
            self._queue.popleft()
            self._counters.queued = len(self._queue)
            self._counters.transaction_messages_discarded += 1
            log.warning(
                "%s: %s %s discarded after %d attempts",
                self.station_id,
                message.action,
                message.event,
                message.attempts,
            )
            return
        interval = float(self._config.get_int("TransactionMessageRetryInterval"))
        await asyncio.sleep(transaction_retry_delay_s(message.attempts, interval_s=interval))
