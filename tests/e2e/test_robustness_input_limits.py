"""Resource abuse over real sockets (ocpp-robustness.md §6, scenarios 24, 25, 26).

Oversized and fragmented frames, DataTransfer payloads and vendors, slowloris and idle sockets,
the per-IP connection cap. Limits are set short through Settings so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from joule.domain.context import HandlerContext
from joule.domain.datatransfer.vendors import (
    VendorReply,
    by_message_id,
    register_vendor,
    unregister_vendor,
)
from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_robustness_input import VERSIONS, assert_alive, online_station, port_of

KIB = 1024
MIB = 1024 * KIB


def data_transfer(data: str, *, vendor: str = "com.example.nobody") -> str:
    """A DataTransfer CALL frame carrying `data`."""
    return json.dumps([2, f"dt-{len(data)}", "DataTransfer", {"vendorId": vendor, "data": data}])


async def closed_with(st: TestStation, timeout: float = 10) -> int | None:
    """Wait until the CSMS closed the socket; the close code it sent."""
    await asyncio.wait_for(st.ws.wait_closed(), timeout)
    return st.ws.close_code


# --- 24: oversized frames ----------------------------------------------------------------


async def test_s24_oversized_frames_close_1009(joule: Joule, api: httpx.AsyncClient) -> None:
    # max_frame_bytes is 1 MiB by default (Settings); above it the socket is closed with 1009.
    assert joule.settings.max_frame_bytes == MIB
    bystanders = {v: await online_station(joule, api, f"S24-OK-{v}", v) for v in VERSIONS}
    for version in VERSIONS:
        sid = f"S24-BIG-{version}"
        st = await online_station(joule, api, sid, version)
        for size in (2 * MIB, 20 * MIB):
            if st.ws.close_code is not None:
                st = await TestStation.connect(
                    ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"]
                )
                await assert_alive(st)
            # The CSMS may close while a 20 MiB frame is still being written.
            with contextlib.suppress(ConnectionClosed):
                await st.send_raw(data_transfer("x" * size))
            assert await closed_with(st) == 1009, size  # RFC 6455 §7.4.1: message too big
            for other in bystanders.values():
                await assert_alive(other)  # other stations are unaffected


async def _chunks(text: str, size: int) -> AsyncIterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]
        await asyncio.sleep(0)


async def test_s24_64_kib_and_fragmented_messages(joule: Joule, api: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        sid = f"S24-FRAG-{version}"
        st = await online_station(joule, api, sid, version)
        # A 64 KiB DataTransfer (Q28: client libraries cap near 16 KiB; we take far more).
        payload = {"vendorId": "com.example.nobody", "data": "d" * (64 * KIB)}
        assert (await st.call("DataTransfer", payload))["status"] == "UnknownVendorId"
        # 64 KiB in 64 continuation frames: reassembled and answered like any other message.
        mid = f"frag-{version}"
        await st.ws.send(_chunks(json.dumps([2, mid, "DataTransfer", payload]), KIB))
        answer = await st.expect_frame()
        assert answer == [3, mid, {"status": "UnknownVendorId"}], answer
        await assert_alive(st)
        # Just over 1 MiB in 1 KiB continuation frames: no single frame is big, the message is.
        with contextlib.suppress(ConnectionClosed):
            await st.ws.send(_chunks(data_transfer("z" * MIB), KIB))
        assert await closed_with(st) == 1009


# --- 25: DataTransfer handling -----------------------------------------------------------

VENDOR = "com.joule.robustness"


@pytest.fixture
def vendor() -> Iterator[str]:
    """A vendor registered in-process for the test: messageId "Echo" answers Accepted."""

    async def echo(ctx: HandlerContext, data: Any) -> VendorReply:
        return VendorReply(status="Accepted", data=data)

    register_vendor(VENDOR, by_message_id({"Echo": echo}))
    yield VENDOR
    unregister_vendor(VENDOR)


async def _stored(api: httpx.AsyncClient, station_id: str) -> list[dict[str, Any]]:
    resp = await api.get(f"/stations/{station_id}/data-transfers")
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_s25_data_transfer_vendors_and_sizes(
    joule: Joule, api: httpx.AsyncClient, vendor: str
) -> None:
    for version in VERSIONS:
        sid = f"S25-{version}"
        st = await online_station(joule, api, sid, version)
        nobody = "com.example.nobody"
        cases = [
            # (payload, expected status): TC_P_02_CSMS / 1.6 TC_064_CSMS
            ({"vendorId": nobody, "messageId": "Any", "data": "1"}, "UnknownVendorId"),
            ({"vendorId": vendor, "messageId": "Nope", "data": "2"}, "UnknownMessageId"),
            ({"vendorId": vendor.upper(), "messageId": "Echo", "data": "3"}, "Accepted"),
            ({"vendorId": nobody, "data": "a" * (60 * KIB)}, "UnknownVendorId"),
            (
                {"vendorId": vendor, "messageId": "Nope", "data": "b" * (200 * KIB)},
                "UnknownMessageId",
            ),
        ]
        for payload, status in cases:
            started = time.monotonic()
            answer = await st.call("DataTransfer", payload)
            assert answer["status"] == status, (payload["vendorId"], answer)
            # Answered promptly, whatever the size (a stall of a loaded CI box fits in the
            # margin; the station's own call timeout is 10 s).
            assert time.monotonic() - started < 5.0
        echo = await st.call(
            "DataTransfer", {"vendorId": vendor, "messageId": "Echo", "data": "hi"}
        )
        assert echo == {"status": "Accepted", "data": "hi"}
        stored = await _stored(api, sid)
        assert len(stored) == len(cases) + 1
        by_data_head = {(r["data"] or "")[:1]: r for r in stored}
        assert by_data_head["1"]["status"] == "UnknownVendorId"
        assert by_data_head["2"]["status"] == "UnknownMessageId"
        assert by_data_head["2"]["message_id"] == "Nope"
        assert len(by_data_head["a"]["data"]) == 60 * KIB  # under the cap: kept whole
        assert len(by_data_head["b"]["data"]) == 64 * KIB  # size-capped at 64 KiB (Q28)
        await st.close()


# --- 26: slowloris and idle sockets ----------------------------------------------------------


async def _closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Read until the server closes the TCP connection; what it sent before (if anything)."""
    received = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
            if not chunk:
                return received
            received += chunk
    except ConnectionResetError:
        return received


# The deadlines of test_s26ab. 2 s, not less: a legitimate station's upgrade (and its first
# message) must fit in them on a loaded 2-core machine (the suite runs on several workers at
# once, beside the other database's suite).
DEADLINE_S = 2.0
# How late a deadline may close a socket: the sweep, and stalls of that machine. The
# alternatives it rules out come later still: an idle timeout instead of the handshake's
# (DRIBBLE_S + DEADLINE_S), the keepalive (a minute and more) or no close at all.
LATE_S = 10.0
DRIBBLE_S = 30.0  # the slowloris keeps sending for this long


async def _slow_upgrade_closed_by_handshake_timeout(joule: Joule) -> None:
    started = time.monotonic()  # before the server accepts: its timer can only start later
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(joule))
    head = b"GET /ocpp/SLOWLORIS HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    request = head + b"X-Padding: " + b"p" * int(DRIBBLE_S / 0.05 - len(head))

    async def dribble() -> None:
        # One byte every 50 ms: the request line arrives, the headers never finish.
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    sender = asyncio.create_task(dribble())
    received = await _closed_by_server(reader, DRIBBLE_S + LATE_S)
    elapsed = time.monotonic() - started
    sender.cancel()
    writer.close()
    assert b" 101 " not in received
    # handshake_timeout_s, not an idle timeout after the dribble (DRIBBLE_S + DEADLINE_S).
    assert DEADLINE_S - 0.05 <= elapsed < DEADLINE_S + LATE_S, elapsed
    # A legitimate station connects meanwhile, as usual.
    st = await TestStation.connect(ocpp_url(joule), "S26A-OK")
    await assert_alive(st)
    await st.close()


async def _silent_socket_closed_after_first_message_deadline(joule: Joule) -> None:
    started = time.monotonic()  # before the upgrade: the deadline can only start later
    silent = await TestStation.connect(ocpp_url(joule), "S26B-SILENT")
    talker = await TestStation.connect(ocpp_url(joule), "S26B-TALKER")
    await talker.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    # Upgraded, then never a BootNotification (nor anything else): closed after the deadline.
    assert await closed_with(silent, DEADLINE_S + LATE_S + 20) == 1008
    elapsed = time.monotonic() - started
    assert DEADLINE_S - 0.05 <= elapsed < DEADLINE_S + LATE_S, elapsed  # first_message_timeout_s
    await asyncio.sleep(0.5)
    await assert_alive(talker)  # a station that spoke in time is not touched
    await talker.close()


async def _half_open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def _refusals(caplog: pytest.LogCaptureFixture) -> int:
    """How many connections the gateway refused for the per-IP cap so far."""
    return sum("per-IP cap" in r.getMessage() for r in caplog.records)


async def test_s26c_per_ip_connection_cap(
    make_joule: MakeJoule, caplog: pytest.LogCaptureFixture
) -> None:
    # Refused or admitted is told by the gateway's refusals, not by how soon a socket closes:
    # an admitted half-open socket is closed too, by the handshake timeout, and a loaded CI
    # box can delay either close past any short wait.
    cap = 3
    joule = await make_joule(
        max_connections_per_ip=cap, handshake_timeout_s=2.5, unknown_stations="accept"
    )
    port = port_of(joule)
    caplog.set_level(logging.WARNING, logger="joule.gateway")
    # All loopback is one IP: `cap` half-open TCP sockets (no HTTP at all) fill its slots.
    held = [await _half_open(port) for _ in range(cap)]
    extra = [await _half_open(port) for _ in range(4)]
    for reader, _ in extra:
        assert await _closed_by_server(reader, 30) == b""
    # Within the cap: admitted, waiting for an upgrade. Beyond it: refused, however many try.
    assert _refusals(caplog) == len(extra)
    # Closing one frees exactly one slot: a legitimate station gets it, the next one does not.
    held.pop()[1].close()
    await asyncio.sleep(0.1)
    st = await TestStation.connect(ocpp_url(joule), "S26C-OK")
    await assert_alive(st)
    reader, writer = await _half_open(port)
    assert await _closed_by_server(reader, 30) == b""
    assert _refusals(caplog) == len(extra) + 1
    writer.close()
    # The half-open sockets never upgrade: the handshake timeout closes them, freeing slots.
    for reader, _ in held:
        await _closed_by_server(reader, 30)
    for writer in (w for _, w in held + extra):
        writer.close()
    await asyncio.sleep(0.1)
    again = await TestStation.connect(ocpp_url(joule), "S26C-LATER")
    await assert_alive(again)
    await assert_alive(st)  # the station that got in stays in
    await again.close()
    await st.close()


async def test_s26ab_slow_upgrade_and_silent_sockets(make_joule: MakeJoule) -> None:
    joule = await make_joule(
        handshake_timeout_s=DEADLINE_S,
        first_message_timeout_s=DEADLINE_S,
        unknown_stations="accept",
    )
    booted = await TestStation.connect(ocpp_url(joule), "S26-BOOTED")
    await booted.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    loiterers = [await _half_open(port_of(joule)) for _ in range(20)]
    # (a) and (b) side by side: the suite waits for the two deadlines once.
    await asyncio.gather(
        _slow_upgrade_closed_by_handshake_timeout(joule),
        _silent_socket_closed_after_first_message_deadline(joule),
    )
    # Past both deadlines: every loiterer is gone, the booted station never noticed.
    for reader, writer in loiterers:
        assert await _closed_by_server(reader, 30) == b""
        writer.close()
    await assert_alive(booted)
    await booted.close()
