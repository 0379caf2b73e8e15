"""A station's WebSocket link to the CSMS: one outstanding CALL each way, frames checked.

The station side of OCPP-J (J16 §4, P4 §4): at most one CALL of ours waits for its answer
(J16/P4 §4.1.1); the CSMS's CALLs are answered as they come, even while ours is outstanding
(crossing CALLs), each with a CALLRESULT or a CALLERROR with the version's code.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.typing import Subprotocol

from joule.kit.ids import new_message_id
from joule.ocpp.catalogue import ALL_ACTIONS
from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    IgnoredFrame,
    Send,
    decode_frame,
    encode_call,
    encode_error,
    encode_result,
)
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.simulator.model import Counters

log = logging.getLogger(__name__)

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer to a CSMS CALL, and what to do once it is on the wire (e.g. reboot)."""

    payload: Payload
    after: Callable[[], Awaitable[None]] | None = None


InboundHandler = Callable[[str, Payload], Awaitable[Reply]]


class LinkClosed(Exception):
    """The WebSocket is gone; the CALL was not (or not surely) delivered."""


class CallErrorReceived(Exception):
    """The CSMS answered our CALL with a CALLERROR."""

    def __init__(self, action: str, code: str, description: str) -> None:
        super().__init__(f"{action}: {code}: {description}")
        self.action = action
        self.code = code
        self.description = description


class _DeafToPings(ClientConnection):
    """A connection that never answers WebSocket pings (quirk Q4, EN+ and others)."""

    def __init__(self, protocol: Any, **kwargs: Any) -> None:
        super().__init__(protocol, **kwargs)
        answer = protocol.recv_frame

        def recv_frame(frame: Frame) -> None:
            if frame.opcode is not Opcode.PING:
                answer(frame)

        # The sans-I/O protocol answers pings inside recv_frame; skip that for pings only.
        setattr(protocol, "recv_frame", recv_frame)  # noqa: B010


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of security profile 1 (user = station id, A00.FR.203)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def open_socket(
    url: str,
    station_id: str,
    *,
    version: OcppVersion,
    password: str | None,
    offer_subprotocol: bool = True,
    answer_pings: bool = True,
    ping_interval_s: float | None = None,
    open_timeout_s: float = 10.0,
) -> ClientConnection:
    """Open the WebSocket at url/<station id> (percent-encoded, P4 §3.1.1)."""
    headers = basic_auth(station_id, password) if password is not None else {}
    return await connect(
        f"{url.rstrip('/')}/{quote(station_id, safe='')}",
        subprotocols=[Subprotocol(version.subprotocol)] if offer_subprotocol else None,
        additional_headers=headers,
        open_timeout=open_timeout_s,
        ping_interval=ping_interval_s or None,
        ping_timeout=None,
        compression=None,  # chargers rarely negotiate permessage-deflate; it costs memory
        max_size=1024 * 1024,
        user_agent_header="joule-simulator",
        create_connection=ClientConnection if answer_pings else _DeafToPings,
    )


class Link:
    """One open WebSocket: CALLs out, CALLs in, every frame counted and checked."""

    def __init__(
        self,
        ws: ClientConnection,
        version: OcppVersion,
        *,
        on_call: InboundHandler,
        counters: Counters,
        check_schemas: bool = True,
    ) -> None:
        self.ws = ws
        self.version = version
        self._on_call = on_call
        self._counters = counters
        self._check_schemas = check_schemas
        self._lock = asyncio.Lock()  # one outstanding CALL of ours (J16/P4 §4.1.1)
        self._pending: tuple[str, asyncio.Future[CallResult | CallError]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()

    @property
    def closed(self) -> bool:
        """True once the socket is gone."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Return when the socket is gone."""
        await self._closed.wait()

    async def call(self, action: str, payload: Payload, *, timeout: float) -> Payload:
        """Send a CALL and return the CALLRESULT payload (CallErrorReceived, TimeoutError)."""
        async with self._lock:
            if self.closed:
                raise LinkClosed(action)
            message_id = new_message_id()
            future: asyncio.Future[CallResult | CallError] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending = (message_id, future)
            try:
                await self.ws.send(encode_call(message_id, action, payload))
                self._counters.messages_sent += 1
                answer = await asyncio.wait_for(future, timeout)
            except ConnectionClosed:
                raise LinkClosed(action) from None
            except TimeoutError:
                if self.closed:
                    raise LinkClosed(action) from None
                self._counters.timeouts += 1
                raise
            finally:
                self._pending = None
        if isinstance(answer, CallError):
            self._counters.note_callerror(answer.error_code)
            raise CallErrorReceived(action, answer.error_code, answer.description)
        self._check(action, "response", answer.payload)
        return answer.payload

    async def run(self) -> None:
        """Read frames until the socket closes."""
        try:
            async for message in self.ws:
                self._counters.messages_received += 1
                await self._on_frame(message)
        except ConnectionClosed:
            pass
        finally:
            self._closed.set()
            if self._pending is not None and not self._pending[1].done():
                future = self._pending[1]
                future.set_exception(LinkClosed("connection closed"))
                # The caller may have given up already (stopped): mark it seen, not "never
                # retrieved"; a waiting caller still gets the exception.
                future.exception()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket cleanly."""
        await self.ws.close(code, reason)
        await self.wait_closed()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a cut cable, a dead modem)."""
        self.ws.transport.abort()

    async def _on_frame(self, message: str | bytes) -> None:
        try:
            frame = decode_frame(self.version, message)
        except IgnoredFrame:
            return
        except FrameError as exc:
            self._counters.schema_failures += 1
            if exc.answerable:
                await self._error(exc.message_id, exc.kind, exc.description)
            return
        if isinstance(frame, Send):
            return  # 2.1 SEND: never answered
        if isinstance(frame, Call):
            self._counters.calls_received += 1
            task = asyncio.create_task(self._answer(frame))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        pending = self._pending
        if pending is not None and pending[0] == frame.message_id and not pending[1].done():
            pending[1].set_result(frame)
        else:
            log.info("answer to an unknown or late CALL %s ignored", frame.message_id)

    async def _answer(self, call: Call) -> None:
        try:
            if call.action not in ALL_ACTIONS:
                raise OcppError(ErrorKind.NOT_IMPLEMENTED, f"unknown action {call.action[:64]}")
            self._check(call.action, "request", call.payload, raise_error=True)
            reply = await self._on_call(call.action, call.payload)
        except OcppError as exc:
            await self._error(call.message_id, exc.kind, exc.description, exc.details)
            return
        except Exception:
            log.exception("answering %s failed", call.action)
            await self._error(call.message_id, ErrorKind.INTERNAL, "the station failed")
            return
        try:
            await self.ws.send(encode_result(call.message_id, reply.payload))
        except ConnectionClosed:
            return
        if reply.after is not None:
            await reply.after()

    async def _error(
        self,
        message_id: str,
        kind: ErrorKind,
        description: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._counters.callerrors_sent += 1
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(encode_error(self.version, message_id, kind, description, details))

    def _check(
        self, action: str, kind: str, payload: Payload, *, raise_error: bool = False
    ) -> None:
        if not self._check_schemas:
            return
        try:
            validate(self.version, action, "request" if kind == "request" else "response", payload)
        except OcppError:
            self._counters.schema_failures += 1
            if raise_error:
                raise
