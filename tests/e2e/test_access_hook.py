"""The real-time authorization hook against a real local HTTP server: verdicts, slow, down."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation

PASSWORD = "a-station-password-123"


class HookServer:
    """A tiny HTTP/1.1 server: answers POSTs from `verdicts` by uid, after `delay` seconds."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.verdicts: dict[str, dict[str, Any]] = {}
        self.delay = 0.0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/authorize"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode().split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = json.loads(await reader.readexactly(length))
        self.requests.append(body)
        await asyncio.sleep(self.delay)
        answer = json.dumps(self.verdicts.get(body["uid"], {"status": "Invalid"})).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
            + answer
        )
        try:
            await writer.drain()
            writer.close()
        except ConnectionError:
            pass  # the client gave up (timeout): nothing to say


@pytest.fixture
async def hook() -> AsyncIterator[HookServer]:
    server = HookServer()
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    yield server
    server.server.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/authorize"


async def station(joule: Joule, sid: str) -> TestStation:
    api = await api_client(joule)
    try:
        resp = await api.post("/stations", json={"id": sid, "password": PASSWORD})
        assert resp.status_code == 201, resp.text
        assert (await api.post("/tokens", json={"uid": "ON-FILE"})).status_code == 201
    finally:
        await api.aclose()
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=["ocpp2.0.1"], password=PASSWORD
    )
    for action in ("SendLocalList", "ClearCache"):
        st.answers[action] = lambda a, p: {"status": "Accepted"}
    st.answers["GetLocalListVersion"] = lambda a, p: {"listVersion": 0}
    boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "AC22"}}
    assert (await st.call("BootNotification", boot))["status"] == "Accepted"
    return st


async def authorize(st: TestStation, uid: str) -> dict[str, Any]:
    answer = await st.call("Authorize", {"idToken": {"idToken": uid, "type": "eMAID"}})
    info: dict[str, Any] = answer["idTokenInfo"]
    return info


async def test_hook_decides_for_tokens_not_on_file(make_joule: MakeJoule, hook: HookServer) -> None:
    hook.verdicts = {
        "EXT-OK": {"status": "Accepted", "group_id": "ROAMING", "expiry": "2030-01-01T00:00:00Z"},
        "EXT-NO": {"status": "NoCredit"},
    }
    joule = await make_joule(auth_hook_url=hook.url, auth_hook_timeout_ms=2000)
    st = await station(joule, "HOOK-1")
    try:
        info = await authorize(st, "EXT-OK")
        assert info["status"] == "Accepted"
        assert info["groupIdToken"]["idToken"] == "ROAMING"
        assert info["cacheExpiryDateTime"].startswith("2030-01-01T00:00:00")
        assert (await authorize(st, "EXT-NO"))["status"] == "NoCredit"
        assert [r["uid"] for r in hook.requests] == ["EXT-OK", "EXT-NO"]
        assert hook.requests[0] == {
            "uid": "EXT-OK",
            "type": "eMAID",
            "station_id": "HOOK-1",
            "evse_id": None,
            "for_start": False,
        }
        # A token on file is Joule's to decide: the hook is not asked.
        assert (await authorize(st, "ON-FILE"))["status"] == "Accepted"
        assert len(hook.requests) == 2
    finally:
        await st.close()


@pytest.mark.parametrize(
    ("fallback", "expected"), [("accept", "Accepted"), ("reject", "Invalid"), ("local", "Invalid")]
)
async def test_slow_hook_uses_the_fallback(
    make_joule: MakeJoule, hook: HookServer, fallback: str, expected: str
) -> None:
    hook.verdicts = {"EXT-OK": {"status": "Blocked"}}
    hook.delay = 1.5
    joule = await make_joule(
        auth_hook_url=hook.url, auth_hook_timeout_ms=200, auth_hook_fallback=fallback
    )
    st = await station(joule, "HOOK-2")
    try:
        started = asyncio.get_running_loop().time()
        assert (await authorize(st, "EXT-OK"))["status"] == expected
        assert asyncio.get_running_loop().time() - started < 1.4  # the timeout, not the hook
    finally:
        await st.close()


async def test_down_hook_uses_the_fallback_and_every_token_mode(make_joule: MakeJoule) -> None:
    joule = await make_joule(
        auth_hook_url=closed_port_url(), auth_hook_fallback="reject", auth_hook_all=True
    )
    st = await station(joule, "HOOK-3")
    try:
        # Every token is asked (JOULE_AUTH_HOOK_ALL); the hook is down: reject, even on file.
        assert (await authorize(st, "ON-FILE"))["status"] == "Invalid"
        assert (await authorize(st, "EXT-OK"))["status"] == "Invalid"
    finally:
        await st.close()


async def test_hook_judges_a_16_start_and_the_reason_is_kept(
    make_joule: MakeJoule, hook: HookServer
) -> None:
    hook.verdicts = {"EXT-16": {"status": "Blocked"}}
    joule = await make_joule(auth_hook_url=hook.url, auth_hook_timeout_ms=2000)
    api = await api_client(joule)
    try:
        resp = await api.post("/stations", json={"id": "HOOK-16", "password": PASSWORD})
        assert resp.status_code == 201, resp.text
        st = await TestStation.connect(
            ocpp_url(joule), "HOOK-16", subprotocols=["ocpp1.6"], password=PASSWORD
        )
        for action in ("SendLocalList", "ClearCache"):
            st.answers[action] = lambda a, p: {"status": "Accepted"}
        st.answers["GetLocalListVersion"] = lambda a, p: {"listVersion": 0}
        try:
            boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
            assert (await st.call("BootNotification", boot))["status"] == "Accepted"
            start = await st.call(
                "StartTransaction",
                {
                    "connectorId": 2,
                    "idTag": "EXT-16",
                    "meterStart": 0,
                    "timestamp": "2026-11-28T08:00:00Z",
                },
            )
            assert start["idTagInfo"]["status"] == "Blocked"
            assert hook.requests[-1]["for_start"] is True
            assert hook.requests[-1]["evse_id"] == 2
            sessions = (await api.get("/transactions", params={"station_id": "HOOK-16"})).json()
            assert sessions["items"][0]["auth_reason"] == "authorization hook: Blocked"
        finally:
            await st.close()
    finally:
        await api.aclose()
