"""Interop at the upgrade (ocpp-robustness.md §6, scenarios 41 and 42), beyond test_station_access.

41: what is echoed when nothing (or several header lines) is offered, and how a per-station
assumed subprotocol (Q1) interacts with what a station does offer. 42: percent-decoded station
ids: their length is counted after decoding and Basic auth compares the decoded id.
"""

from __future__ import annotations

import asyncio
import base64
import os
from urllib.parse import quote

import httpx

from joule.runtime import Joule
from tests.e2e.station import basic_auth
from tests.e2e.test_charging_session import PASSWORD, add_station, station_view
from tests.e2e.test_robustness_input import BOOT, RawWebSocket, port_of


async def upgrade(
    port: int, path: str, *, offers: list[str], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    """Send one upgrade request (one Sec-WebSocket-Protocol line per offer); status, headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"Sec-WebSocket-Protocol: {offer}" for offer in offers),
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
    writer.close()
    status_line, *header_lines = head.strip().split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found


# --- 41: subprotocol negotiation matrix (what test_station_access.py does not cover) --------


async def test_s41_subprotocol_matrix_additions(joule: Joule, api: httpx.AsyncClient) -> None:
    port = port_of(joule)
    for sid, assume in (("S41-PLAIN", None), ("S41-AS16", "ocpp1.6"), ("S41-AS201", "ocpp2.0.1")):
        body = {"id": sid} if assume is None else {"id": sid, "assume_subprotocol": assume}
        resp = await api.post("/stations", json=body)
        assert resp.status_code == 201, resp.text
    cases: list[tuple[str, list[str], int, str | None]] = [
        # (station, Sec-WebSocket-Protocol lines, HTTP status, echoed subprotocol)
        ("S41-PLAIN", [], 400, None),  # nothing offered, nothing assumed: contract → 400
        ("S41-AS201", [], 101, None),  # Q1: assumed version, and no header echoed (RFC 6455)
        ("S41-PLAIN", ["ocpp1.6, ocpp2.0.1"], 101, "ocpp1.6"),  # the station's order wins
        ("S41-PLAIN", ["ocpp0.1", "ocpp2.0.1"], 101, "ocpp2.0.1"),  # offers on two lines
        ("S41-AS16", ["ocpp2.0.1"], 101, "ocpp2.0.1"),  # an offer beats the assumption
        ("S41-AS16", ["ocpp0.1"], 400, None),  # the assumption is for silence, not nonsense
        ("S41-PLAIN", ["OCPP2.0.1"], 101, "OCPP2.0.1"),  # echoed as the station spelled it
    ]
    for sid, offers, status, echoed in cases:
        got, headers = await upgrade(port, f"/ocpp/{sid}", offers=offers)
        assert got == status, (sid, offers, got)
        assert headers.get("sec-websocket-protocol") == echoed, (sid, offers, headers)
    # The assumed version is really spoken: a 2.0.1 boot is understood on the silent upgrade.
    ws = await RawWebSocket.open(port, "/ocpp/S41-AS201", subprotocol=None)
    assert ws.subprotocol is None
    frame = await ws.call("1", "BootNotification", BOOT["2.0.1"])
    assert frame[0] == 3 and frame[2]["status"] == "Accepted"
    assert (await station_view(api, "S41-AS201"))["ocpp_version"] == "2.0.1"
    ws.abort()


# --- 42: station identity in the URL -------------------------------------------------------


async def _decoded_id_is_used_for_lookup_and_basic_auth(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    port = port_of(joule)
    sid = "RDAM 123"
    await add_station(api, sid)  # with a password: Basic auth user = the decoded identity
    path = "/ocpp/RDAM%20123"
    status, _ = await upgrade(port, path, offers=["ocpp1.6"], headers=basic_auth(sid, PASSWORD))
    assert status == 101
    for user in ("RDAM%20123", "RDAM+123", "rdam 123"):
        wrong = basic_auth(user, PASSWORD)
        status, _ = await upgrade(port, path, offers=["ocpp1.6"], headers=wrong)
        assert status == 401, user
    ws = await RawWebSocket.open(port, path, headers=basic_auth(sid, PASSWORD))
    frame = await ws.call("1", "BootNotification", BOOT["1.6"])
    assert frame[0] == 3 and frame[2]["status"] == "Accepted"
    view = await station_view(api, sid)
    assert view["online"] is True and view["vendor"] == "Acme"
    ws.abort()


async def _length_counted_after_decoding(joule: Joule, api: httpx.AsyncClient) -> None:
    cases = [
        ("A" * 47 + " ", 101),  # 48 characters once decoded (50 in the URL)
        ("Ü" * 48, 101),  # 48 characters, 96 UTF-8 bytes, 288 characters in the URL
        ("A" * 48 + " ", 404),  # 49 characters once decoded
        ("Ü" * 49, 404),
    ]
    for station_id, expected in cases:
        if expected == 101:
            await add_station(api, station_id, password=None)
        path = f"/ocpp/{quote(station_id, safe='')}"
        status, _ = await upgrade(port_of(joule), path, offers=["ocpp1.6"])
        assert status == expected, (station_id, status)
        if expected == 101:
            assert (await station_view(api, station_id))["id"] == station_id
    # ':' is not allowed in an identity (P4 §3.1.1), however its escape is spelled.
    await add_station(api, "CP", password=None)
    for path in ("/ocpp/CP%3A1", "/ocpp/CP%3a1", "/ocpp/CP:1"):
        status, _ = await upgrade(port_of(joule), path, offers=["ocpp1.6"])
        assert status == 404, path


async def test_s42_station_identity_in_url(joule: Joule, api: httpx.AsyncClient) -> None:
    await _decoded_id_is_used_for_lookup_and_basic_auth(joule, api)
    await _length_counted_after_decoding(joule, api)
