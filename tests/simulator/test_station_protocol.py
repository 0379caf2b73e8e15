"""A station against a scripted CSMS peer on a real socket: the rules a station must follow.

Boot Pending/Rejected waited out (B02.FR.01, B03.FR.01) with nothing else sent (B01.FR.08);
a transaction message that gets a CALLERROR is retried after the interval with a new message id
and discarded after the last attempt (C16 §3.7.1, E13); a reconnect is not a reboot (J16 §5.4)
and waits the back-off (P4 §5.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from joule.kit.clock import utc_iso
from joule.ocpp.versions import OcppVersion
from joule.simulator.model import LAYOUTS
from joule.simulator.station import SimulatedStation, StationSpec
from tests.e2e.test_charging_session import eventually

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

    async def handle(self, ws: ServerConnection) -> None:
        self.sockets.append(ws)
        index = len(self.sockets)
        async for text in ws:
            frame = json.loads(text)
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


@pytest.fixture
async def peer_server() -> AsyncIterator[Callable[[Answer], Any]]:
    servers: list[Server] = []

    async def start(answer: Answer) -> tuple[Peer, str]:
        peer = Peer(answer)

        def pick(connection: ServerConnection, offered: list[Any]) -> Any:
            return offered[0] if offered else None

        server = await serve(peer.handle, "127.0.0.1", 0, select_subprotocol=pick)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return peer, f"ws://127.0.0.1:{port}/ocpp"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def station(url: str, version: OcppVersion = OcppVersion.V16, **config: str) -> SimulatedStation:
    spec = StationSpec("PEER-1", version=version, evses=LAYOUTS["ac3x2"], config=FAST | config)
    return SimulatedStation(spec, url, tick_s=0.1, traffic=False)


async def test_pending_boot_waits_out_its_interval_and_sends_nothing_else(
    peer_server: Callable[[Answer], Any],
) -> None:
    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        if action == "BootNotification" and n == 0:
            return {"status": "Pending", "interval": 1, "currentTime": "2026-05-01T18:00:00Z"}
        return accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url)
    await st.start()
    await st.wait_booted(10)
    boots = [t for _, _, a, _, t in peer.calls if a == "BootNotification"]
    assert len(boots) == 2 and boots[1] - boots[0] >= 0.95
    assert peer.actions()[:2] == ["BootNotification", "BootNotification"]  # B01.FR.08

    async def statuses() -> bool:
        return peer.actions()[2:5] == ["StatusNotification"] * 3  # connector 0, 1, 2

    await eventually(statuses, timeout=5)
    await st.stop()


async def test_callerror_is_retried_with_a_new_id_and_a_reconnect_is_no_reboot(
    peer_server: Callable[[Answer], Any],
) -> None:
    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        if action == "StartTransaction" and n == 0:
            return "InternalError"
        return accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url)
    await st.start()
    await st.wait_booted(10)
    st.plug_in(1)
    assert await st.present_token(1, "TAG")
    await st.wait_idle(10)
    starts = [(mid, t) for _, mid, a, _, t in peer.calls if a == "StartTransaction"]
    assert len(starts) == 2 and starts[0][0] != starts[1][0]  # a retry has a new message id
    assert starts[1][1] - starts[0][1] >= 0.95  # TransactionMessageRetryInterval × 1
    assert st.counters.callerrors_received == 1 and st.sessions()[0].csms_id == 7

    dropped_at = time.monotonic()
    await peer.sockets[0].close()
    await eventually(lambda: _reconnected(peer), timeout=10)
    second = peer.actions(2)
    assert second and second[0] != "BootNotification"  # J16 §5.4: no reboot, no boot
    assert next(t for c, _, _, _, t in peer.calls if c == 2) - dropped_at >= 0.95  # back-off
    assert await st.stop_transaction(1)
    await st.wait_idle(10)
    stop = [p for _, _, a, p, _ in peer.calls if a == "StopTransaction"]
    assert stop[0]["transactionId"] == 7 and st.counters.boots == 1
    await st.stop()


async def _reconnected(peer: Peer) -> bool:
    return len(peer.sockets) == 2 and bool(peer.actions(2))


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=str)
async def test_a_message_that_keeps_failing_is_discarded_after_the_last_attempt(
    peer_server: Callable[[Answer], Any], version: OcppVersion
) -> None:
    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        periodic = action == "MeterValues" or payload.get("triggerReason") == "MeterValuePeriodic"
        return "InternalError" if periodic else accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url, version, TransactionMessageAttempts="2")
    await st.start()
    await st.wait_booted(10)
    st.plug_in(1)
    assert await st.present_token(1, "TAG")
    await asyncio.sleep(1.2)  # one periodic sample, then stop
    assert await st.stop_transaction(1)
    await st.wait_idle(15)
    assert st.counters.transaction_messages_discarded >= 1  # C16 §3.7.1 / E13.FR.04
    assert st.counters.callerrors_received == 2 * st.counters.transaction_messages_discarded
    last = peer.calls[-1]
    assert last[2] in ("StopTransaction", "TransactionEvent")  # the queue went on
    assert st.completed and st.completed[0].meter_stop_wh >= st.completed[0].meter_start_wh
    await st.stop()
