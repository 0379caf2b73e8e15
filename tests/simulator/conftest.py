"""Helpers for simulator unit tests: stations that are built but never connected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from joule.kit.clock import FixedClock
from joule.ocpp.frames import encode_call
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.simulator.model import LAYOUTS
from joule.simulator.station import SimulatedStation, StationSpec
from tests.simulator.peer import Answer, Peer

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
VERSIONS = (OcppVersion.V16, OcppVersion.V201, OcppVersion.V21)


def offline_station(version: OcppVersion, **spec: Any) -> tuple[SimulatedStation, FixedClock]:
    """A station whose clock only moves when told to, with TAG-1 on its local list."""
    clock = FixedClock(T0)
    values: dict[str, Any] = {"evses": LAYOUTS["mixed"], **spec}
    station = SimulatedStation(
        StationSpec(f"UNIT-{version.value}", version=version, **values),
        "ws://127.0.0.1:9/ocpp",
        clock=clock,
        traffic=False,
    )
    station.chargepoint.auth.update_list(1, "Full", {"TAG-1": "Accepted"})
    station.chargepoint.tick(T0)
    return station, clock


def later(clock: FixedClock, seconds: float) -> datetime:
    """Move the clock on."""
    clock.set(clock.now() + timedelta(seconds=seconds))
    return clock.now()


def wire(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the receiver sees it (Decimals become JSON numbers)."""
    decoded: dict[str, Any] = orjson.loads(encode_call("x", action, payload))[3]
    return decoded


def check(version: OcppVersion, action: str, kind: str, payload: dict[str, Any]) -> None:
    """Validate against the official schema (raises OcppError)."""
    validate(version, action, "request" if kind == "request" else "response", wire(action, payload))


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
