"""A small, honest OCPP-J station for end-to-end tests: a real WebSocket client, frame by frame."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from joule.ocpp.errors import OcppError
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion

Answer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]


class CallErrorReceived(Exception):
    """The CSMS answered our CALL with a CALLERROR."""

    def __init__(self, frame: list[Any]) -> None:
        super().__init__(f"{frame[2]}: {frame[3]}")
        self.frame = frame
        self.code: str = frame[2]
        self.description: str = frame[3]
        self.details: dict[str, Any] = frame[4] if len(frame) > 4 else {}


def basic_auth(user: str, password: str) -> dict[str, str]:
    """An Authorization header for Basic auth."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class TestStation:
    """Connects as a station, sends CALLs, answers the CSMS's CALLs with `answers`."""

    __test__ = False  # not a pytest class

    def __init__(self, ws: ClientConnection, station_id: str) -> None:
        self.ws = ws
        self.station_id = station_id
        self.answers: dict[str, Answer] = {}
        self.received_calls: list[list[Any]] = []  # CALLs the CSMS sent us
        self.sent_frames: list[str] = []
        self.inbox: asyncio.Queue[list[Any] | str] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read())
        self.answer_delay = 0.0
        self.silent = False  # do not answer CSMS calls at all (Q5)
        # Every frame Joule sends must validate against the official schemas (issue 2).
        self.check_schemas = True
        self.schema_failures: list[str] = []
        self._actions: dict[str, str] = {}  # message id → action of our CALL

    @classmethod
    async def connect(
        cls,
        url: str,
        station_id: str,
        *,
        subprotocols: list[str] | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestStation:
        hdrs = dict(headers or {})
        if password is not None:
            hdrs.update(basic_auth(station_id, password))
        ws = await connect(
            f"{url}/{station_id}",
            subprotocols=[Subprotocol(s) for s in subprotocols or ["ocpp1.6"]],
            additional_headers=hdrs,
            open_timeout=5,
            ping_interval=None,
            **kwargs,
        )
        return cls(ws, station_id)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                try:
                    frame = json.loads(message)
                except (ValueError, TypeError):
                    await self.inbox.put(message if isinstance(message, str) else message.decode())
                    continue
                if isinstance(frame, list) and frame and frame[0] == 2:
                    self._check(frame[2], "request", frame[3])
                    self.received_calls.append(frame)
                    task = asyncio.create_task(self._answer(frame))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif isinstance(frame, list) and len(frame) > 1 and frame[1] in self._pending:
                    action = self._actions.pop(frame[1], None)
                    if frame[0] == 3 and action is not None:
                        self._check(action, "response", frame[2])
                    self._pending.pop(frame[1]).set_result(frame)
                else:
                    await self.inbox.put(frame)
        except Exception:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))

    @property
    def version(self) -> OcppVersion | None:
        sub = (self.ws.subprotocol or "").lower()
        return OcppVersion.from_subprotocol(sub)

    def _check(self, action: str, kind: str, payload: Any) -> None:
        version = self.version
        if not self.check_schemas or version is None:
            return
        try:
            validate(version, action, kind, payload)  # type: ignore[arg-type]  # kind is str
        except OcppError as exc:
            self.schema_failures.append(f"{action} {kind}: {exc}")

    async def _answer(self, frame: list[Any]) -> None:
        if self.silent:
            return
        _, message_id, action, payload = frame
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        handler = self.answers.get(action)
        if handler is None:
            await self.send_raw(json.dumps([4, message_id, "NotImplemented", "", {}]))
            return
        result = handler(action, payload)
        if asyncio.iscoroutine(result):
            result = await result
        await self.send_raw(json.dumps([3, message_id, result]))

    async def send_raw(self, text: str | bytes) -> None:
        if isinstance(text, str):
            self.sent_frames.append(text)
        await self.ws.send(text)

    async def call_frame(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        message_id: str | None = None,
        timeout: float = 10,
    ) -> list[Any]:
        """Send a CALL and return the whole answer frame (CALLRESULT or CALLERROR)."""
        mid = message_id or f"{self.station_id}-{next(self._ids)}"
        fut: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[mid] = fut
        self._actions[mid] = action
        await self.send_raw(json.dumps([2, mid, action, payload]))
        return await asyncio.wait_for(fut, timeout)

    async def call(self, action: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload; raise CallErrorReceived on CALLERROR."""
        frame = await self.call_frame(action, payload, **kw)
        if frame[0] == 4:
            raise CallErrorReceived(frame)
        assert frame[0] == 3, frame
        result: dict[str, Any] = frame[2]
        return result

    async def expect_frame(self, timeout: float = 5) -> list[Any] | str:
        """The next unsolicited frame (e.g. a CALLERROR with id -1)."""
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        assert not self.schema_failures, self.schema_failures
