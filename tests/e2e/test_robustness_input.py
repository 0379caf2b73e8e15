"""Bad input over real sockets (ocpp-robustness.md §6, scenarios 18–20 and 22).

Every bad frame must get its CALLERROR on the wire (or, where the spec says so, nothing) and the
connection must live on: each test sends a valid Heartbeat after each bad frame and gets its answer.
`RawWebSocket` is a minimal RFC 6455 client for what the websockets client will not send
(invalid UTF-8 in a text frame, pings left unanswered, a slow upgrade); other files import it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import (
    add_station,
    station_view,
)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# --- a minimal RFC 6455 client ------------------------------------------------------------


def _mask(payload: bytes, key: bytes) -> bytes:
    # XOR with the 4-byte key repeated, done on big integers so a 20 MiB frame stays cheap.
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One client frame (masked, as RFC 6455 §5.3 requires of clients)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + _mask(payload, key)


class RawWebSocket:
    """A hand-rolled WebSocket client: sends any frame, answers pings only when told to.

    A background task reads frames, so pings are seen (and counted) while the test waits.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.answer_pings = True
        self.pings = 0
        self.close_code: int | None = None
        self.subprotocol: str | None = None
        self.messages: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        port: int,
        path: str,
        *,
        subprotocol: str | None = "ocpp1.6",
        headers: dict[str, str] | None = None,
    ) -> RawWebSocket:
        """Connect to 127.0.0.1:port and upgrade; raise AssertionError unless 101."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ws = cls(reader, writer)
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        for line in head.decode().split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-protocol":
                ws.subprotocol = value.strip()
        ws._task = asyncio.create_task(ws._read_loop())
        return ws

    async def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        """Write one frame as is."""
        self.writer.write(encode_frame(opcode, payload, fin=fin))
        await self.writer.drain()

    async def send_text(self, text: str) -> None:
        """Write one text frame."""
        await self.send_frame(OP_TEXT, text.encode())

    async def _read_frame(self) -> tuple[bool, int, bytes]:
        b0, b1 = await self.reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        key = await self.reader.readexactly(4) if b1 & 0x80 else b""
        data = await self.reader.readexactly(n)
        return bool(b0 & 0x80), b0 & 0x0F, _mask(data, key) if key else data

    async def _read_loop(self) -> None:
        parts: list[bytes] = []
        try:
            while True:
                fin, opcode, data = await self._read_frame()
                if opcode == OP_PING:
                    self.pings += 1
                    if self.answer_pings:
                        await self.send_frame(OP_PONG, data)
                elif opcode == OP_CLOSE:
                    self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    await self.send_frame(OP_CLOSE, data[:2])
                    break
                elif opcode in (OP_TEXT, OP_CONT):
                    parts.append(data)
                    if fin:
                        await self.messages.put(b"".join(parts).decode())
                        parts = []
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # TCP closed without (more) frames
        finally:
            # RFC 6455 §7.1.1: after the closing handshake the server waits for our TCP close.
            self.writer.close()
            await self.messages.put(None)

    async def recv(self, timeout: float = 5) -> str | None:
        """The next text message; None once the server closed (close_code then set)."""
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def call(self, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL and return the next message as a frame."""
        await self.send_text(json.dumps([2, message_id, action, payload]))
        answer = await self.recv()
        assert answer is not None, f"closed with {self.close_code}"
        frame: list[Any] = json.loads(answer)
        return frame

    async def wait_closed(self, timeout: float = 5) -> int | None:
        """Wait until the server closed the connection; its close code (None: no close frame)."""
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.close_code

    @property
    def closed(self) -> bool:
        """True once the connection is gone."""
        return self._task is None or self._task.done()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        self.writer.transport.abort()


# --- shared helpers -----------------------------------------------------------------------

BOOT: dict[str, dict[str, Any]] = {
    "1.6": {"chargePointVendor": "Acme", "chargePointModel": "Robust"},
    "2.0.1": {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "Robust"}},
    "2.1": {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "Robust"}},
}
VERSIONS = ("1.6", "2.0.1")


def port_of(joule: Joule) -> int:
    """The OCPP port the running Joule listens on."""
    port = joule.ocpp_port
    assert port is not None
    return port


def code_for(version: str, v16: str, v2x: str) -> str:
    """The error code as this OCPP version spells it."""
    return v16 if version == "1.6" else v2x


def violation(version: str) -> str:
    """The code for an unreadable frame: 1.6 FormationViolation (sic), 2.x FormatViolation."""
    return code_for(version, "FormationViolation", "FormatViolation")


async def online_station(
    joule: Joule,
    api: httpx.AsyncClient,
    station_id: str,
    version: str,
    *,
    password: str | None = None,
) -> TestStation:
    """Register a station, connect (Basic auth when it has a password) and boot it (Accepted)."""
    await add_station(api, station_id, password=password)
    st = await TestStation.connect(
        ocpp_url(joule), station_id, subprotocols=[f"ocpp{version}"], password=password
    )
    assert st.subprotocol == f"ocpp{version}"
    boot = await st.call("BootNotification", BOOT[version])
    assert boot["status"] == "Accepted"
    return st


async def assert_alive(st: TestStation) -> None:
    """The connection still works: a Heartbeat is answered, and nothing else came first."""
    answer = await st.call("Heartbeat", {})
    assert "currentTime" in answer
    assert st.inbox.empty(), f"unexpected frame: {st.inbox.get_nowait()}"


async def bad_frame(st: TestStation, text: str | bytes) -> list[Any]:
    """Send a raw frame, return the unsolicited answer, then prove the connection lives on."""
    await st.send_raw(text)
    frame = await st.expect_frame()
    assert isinstance(frame, list), frame
    await assert_alive(st)
    return frame


def assert_call_error(frame: list[Any], message_id: str, code: str) -> dict[str, Any]:
    """A well-formed CALLERROR with this id and code; returns its errorDetails."""
    assert frame[0] == 4 and frame[1] == message_id and frame[2] == code, frame
    assert len(frame) == 5 and isinstance(frame[3], str) and isinstance(frame[4], dict), frame
    details: dict[str, Any] = frame[4]
    return details


# --- 18: invalid JSON / truncated frame ----------------------------------------------------


async def test_s18_invalid_json_and_truncated_frame(joule: Joule, api: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        st = await online_station(joule, api, f"S18-{version}", version)
        for text in (
            '[2,"abc4","Authorize",{"idTag":"A1B.....]',  # SteVe BrokenPayload: truncated
            '[2,"abc5","Heartbeat",{}',  # the closing bracket missing
            "not json at all",
            '[2,"abc6","Heartbeat",{}]]',  # trailing garbage
            "",  # an empty text frame
        ):
            frame = await bad_frame(st, text)
            # P4 §4.2.3: no id can be read from a frame that is not JSON, so "-1".
            assert_call_error(frame, "-1", violation(version))
        await st.close()


# --- 19: wrong RPC shapes -------------------------------------------------------------------


async def _wrong_rpc_shapes(joule: Joule, api: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        st = await online_station(joule, api, f"S19-{version}", version)
        for text, message_id in (
            ("{}", "-1"),  # an object, not an array
            ("[]", "-1"),
            ("[2]", "-1"),  # no messageId at all
            ('[2,"s19-a"]', "s19-a"),  # a CALL without action and payload
            ('[2,"s19-b","Heartbeat"]', "s19-b"),
            ('[2,"s19-c","Heartbeat",[]]', "s19-c"),  # payload not an object
            ('[2,"s19-d",7,{}]', "s19-d"),  # action not a string
            ('["2","s19-e","Heartbeat",{}]', "s19-e"),  # MessageTypeId a string (J16 §4.1.3)
            ('[2,"s19-f","Heartbeat",{},"extra"]', "s19-f"),
        ):
            frame = await bad_frame(st, text)
            assert_call_error(frame, message_id, violation(version))
        await st.close()


async def _unknown_message_types(joule: Joule, api: httpx.AsyncClient) -> None:
    st = await online_station(joule, api, "S19-TYPE-201", "2.0.1")
    for type_id in (5, 6, 7, 99, 0):  # 5 (CALLRESULTERROR) and 6 (SEND) exist only in 2.1
        frame = await bad_frame(st, json.dumps([type_id, f"s19-{type_id}", "X", {}]))
        assert_call_error(frame, f"s19-{type_id}", "MessageTypeNotSupported")  # P4 §4.4
    await st.close()
    st = await online_station(joule, api, "S19-TYPE-16", "1.6")
    for type_id in (5, 6, 7, 99, 0):
        # J16 §4.1.3: a 1.6 receiver ignores unknown MessageTypeIds, no answer at all.
        await st.send_raw(json.dumps([type_id, f"s19-{type_id}", "X", {}]))
        await assert_alive(st)  # frames are handled in order: an answer would be here by now
    await st.close()


async def test_s19_wrong_rpc_shapes_and_message_types(joule: Joule, api: httpx.AsyncClient) -> None:
    await _wrong_rpc_shapes(joule, api)
    await _unknown_message_types(joule, api)


# --- 20: bad message ids ----------------------------------------------------------------


def _faulted(version: str) -> dict[str, Any]:
    if version == "1.6":
        return {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}
    return {
        "timestamp": "2026-11-28T08:00:00Z",
        "connectorStatus": "Faulted",
        "evseId": 1,
        "connectorId": 1,
    }


async def test_s20_bad_message_ids(joule: Joule, api: httpx.AsyncClient) -> None:
    too_long = "x" * 37  # J16 Table 3 / P4 §4.1.4: at most 36 characters
    for version in VERSIONS:
        sid = f"S20-{version}"
        st = await online_station(joule, api, sid, version)
        payload = json.dumps(_faulted(version))
        for raw_id, echoed in (
            ('""', "-1"),
            ("null", "-1"),
            (f'"{too_long}"', too_long),
            ("123", "123"),
        ):
            frame = await bad_frame(st, f'[2,{raw_id},"StatusNotification",{payload}]')
            assert_call_error(frame, echoed, violation(version))  # echo what can be echoed
        # No processing: the StatusNotifications behind the bad ids changed nothing.
        view = await station_view(api, sid)
        assert all(c["status"] != "Faulted" for c in view["connectors"]), view["connectors"]
        await st.close()


# --- 22: unknown and unsupported actions ---------------------------------------------------


async def test_s22_unknown_and_unsupported_actions(joule: Joule, api: httpx.AsyncClient) -> None:
    # The mapping of the P4 §4.3 / J16 Table 7 text: NotImplemented = not known by the receiver,
    # NotSupported = recognised but not supported (not mobilityhouse/ocpp's inverse mapping).
    cases: dict[str, list[tuple[str, dict[str, Any], str]]] = {
        "1.6": [
            ("FooBar", {}, "NotImplemented"),
            ("heartbeat", {}, "NotImplemented"),  # action names are case-sensitive
            ("X" * 200, {}, "NotImplemented"),
            ("NotifyDERAlarm", {}, "NotSupported"),  # a 2.1 action
            ("TransactionEvent", {}, "NotSupported"),  # a 2.0.1 action
            ("RemoteStartTransaction", {"idTag": "X"}, "NotSupported"),  # CSMS → station only
        ],
        "2.0.1": [
            ("FooBar", {}, "NotImplemented"),
            ("NotifyDERAlarm", {}, "NotSupported"),  # 2.1-only on a 2.0.1 connection
            ("StartTransaction", {}, "NotSupported"),  # a 1.6 action
            ("RequestStartTransaction", {}, "NotSupported"),
        ],
        "2.1": [
            ("FooBar", {}, "NotImplemented"),
            # A valid 2.1 station request Joule has no handler for: the dispatcher answers
            # NotSupported rather than a made-up status.
            ("VatNumberValidation", {"vatNumber": "NL123456789B01"}, "NotSupported"),
        ],
    }
    for version, calls in cases.items():
        st = await online_station(joule, api, f"S22-{version}", version)
        for action, payload, code in calls:
            frame = await st.call_frame(action, payload)
            assert_call_error(frame, frame[1], code)
            await assert_alive(st)
        if version == "2.1":
            # Not even an invalid payload of an unhandled action becomes an InternalError.
            frame = await st.call_frame("VatNumberValidation", {})
            assert frame[0] == 4 and frame[2] != "InternalError", frame
        await st.close()
