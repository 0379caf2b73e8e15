"""A scripted CSMS on a real WebSocket, for testing what a simulated station sends and answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from joule.kit.clock import utc_iso
from joule.ocpp.versions import OcppVersion
from joule.simulator.model import LAYOUTS
from joule.simulator.station import SimulatedStation, StationSpec

Answer = Callable[[str, dict[str, Any], int], Any]  # (action, payload, n-th of it) → reply
FAST = {
    "TransactionMessageRetryInterval": "1",
    "TransactionMessageAttempts": "3",
    "RetryBackOffWaitMinimum": "1",
    "RetryBackOffRandomRange": "0",
    "MeterValueSampleInterval": "1",
}


@dataclass
class Peer:
    """A CSMS that answers from a script and records every CALL with its connection number."""

    answer: Answer
    calls: list[tuple[int, str, str, dict[str, Any], float]] = field(default_factory=list)
    sockets: list[ServerConnection] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[list[Any]]] = field(default_factory=dict)

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CSMS CALL on the newest socket and return the station's answer frame."""
        message_id = f"csms-{len(self.waiting) + 1}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.waiting[message_id] = future
        await self.sockets[-1].send(json.dumps([2, message_id, action, payload]))
        return await asyncio.wait_for(future, 10)

    async def handle(self, ws: ServerConnection) -> None:
        self.sockets.append(ws)
        index = len(self.sockets)
        async for text in ws:
            frame = json.loads(text)
            if frame[0] in (3, 4) and frame[1] in self.waiting:
                self.waiting[frame[1]].set_result(frame)
                continue
            if frame[0] != 2:
                continue
            _, message_id, action, payload = frame
            self.calls.append((index, message_id, action, payload, time.monotonic()))
            n = self.seen.get(action, 0)
            self.seen[action] = n + 1
            reply = self.answer(action, payload, n)
            if isinstance(reply, str):  # a CALLERROR code
                frame = [4, message_id, reply, "scripted failure", {}]
            else:
                frame = [3, message_id, reply]
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))

    def actions(self, connection: int | None = None) -> list[str]:
        return [a for c, _, a, _, _ in self.calls if connection in (None, c)]


def accepted(action: str, payload: dict[str, Any], n: int) -> Any:
    """The answers of a CSMS that accepts everything (1.6 and 2.x shapes)."""
    now = utc_iso(datetime.now(UTC))
    if action == "BootNotification":
        return {"status": "Accepted", "interval": 300, "currentTime": now}
    if action == "Heartbeat":
        return {"currentTime": now}
    if action == "Authorize":
        info = {"status": "Accepted"}
        return {"idTagInfo": info} if "idTag" in payload else {"idTokenInfo": info}
    if action == "StartTransaction":
        return {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}
    return {}


def station(url: str, version: OcppVersion = OcppVersion.V16, **config: str) -> SimulatedStation:
    spec = StationSpec("PEER-1", version=version, evses=LAYOUTS["ac3x2"], config=FAST | config)
    return SimulatedStation(spec, url, tick_s=0.1, traffic=False)
