"""The raw ceiling: a bare OCPP-J responder on the WebSocket library Joule ships on.

It parses each CALL (orjson) and answers at once — no validation, no routing, no database — the
R_raw that every target of performance.md §3 is a ratio to. It runs in its own process so its
CPU time can be read from /proc like Joule's:

    python -m joule.bench.raw [--host 127.0.0.1] [--port 0] [--impl websockets|picows]

and prints `READY <port>` once it listens. The picows variant runs only where picows is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

_SUBPROTOCOLS = [Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1"), Subprotocol("ocpp2.1")]
_transaction_ids = itertools.count(1)
BACKLOG = 2048


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _boot(_: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Accepted", "currentTime": _now(), "interval": 300}


def _heartbeat(_: dict[str, Any]) -> dict[str, Any]:
    return {"currentTime": _now()}


def _start(_: dict[str, Any]) -> dict[str, Any]:
    return {"transactionId": next(_transaction_ids), "idTagInfo": {"status": "Accepted"}}


def _authorize(_: dict[str, Any]) -> dict[str, Any]:
    return {"idTagInfo": {"status": "Accepted"}}


def _empty(_: dict[str, Any]) -> dict[str, Any]:
    return {}


_ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "BootNotification": _boot,
    "Heartbeat": _heartbeat,
    "StartTransaction": _start,
    "Authorize": _authorize,
}


def answer(message: str | bytes) -> bytes | None:
    """The CALLRESULT for a CALL frame, or None for anything else."""
    frame = orjson.loads(message)
    if not isinstance(frame, list) or len(frame) != 4 or frame[0] != 2:
        return None
    return orjson.dumps([3, frame[1], _ANSWERS.get(frame[2], _empty)(frame[3])])


async def _handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            reply = answer(message)
            if reply is not None:
                await ws.send(reply.decode())
    except ConnectionClosed:
        pass


async def _serve_websockets(host: str, port: int) -> None:
    stop = _stop_event()
    # The settings Joule's gateway uses: no compression, no per-connection keepalive task.
    async with serve(
        _handler,
        host,
        port,
        subprotocols=_SUBPROTOCOLS,
        compression=None,
        ping_interval=None,
        ping_timeout=None,
        max_queue=4,
        # A boot storm has ≤ 1 000 handshakes in flight (T7): the default backlog of 100 would
        # drop SYNs and add the kernel's 1 s retransmit to every overflowing connect.
        backlog=BACKLOG,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"READY {bound}", flush=True)
        await stop.wait()


async def _serve_picows(host: str, port: int) -> None:
    import picows  # type: ignore[import-not-found]  # optional: only where installed

    class Listener(picows.WSListener):  # type: ignore[misc]
        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type == picows.WSMsgType.TEXT:
                reply = answer(frame.get_payload_as_bytes())
                if reply is not None:
                    transport.send(picows.WSMsgType.TEXT, reply)
            elif frame.msg_type == picows.WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    stop = _stop_event()
    server = await picows.ws_create_server(lambda _request: Listener(), host, port, backlog=BACKLOG)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    await stop.wait()
    server.close()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main(argv: list[str] | None = None) -> None:
    """Run the raw responder until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--impl", choices=("websockets", "picows"), default="websockets")
    args = parser.parse_args(argv)
    run = _serve_picows if args.impl == "picows" else _serve_websockets
    try:
        asyncio.run(run(args.host, args.port))
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(0)


if __name__ == "__main__":
    main()
