"""`--workers N` end to end: two processes share the ports; API commands reach every station."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

ADMIN = ("cluster@example.test", "cluster-admin-password")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, str, Path, subprocess.Popen[bytes]]]:
    """`joule serve-workers --workers 2` on a fresh SQLite database."""
    ocpp, http = _free_port(), _free_port()
    db = tmp_path / "joule.db"
    env = {
        **os.environ,
        "JOULE_ADMIN_EMAIL": ADMIN[0],
        "JOULE_ADMIN_PASSWORD": ADMIN[1],
        "JOULE_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "joule.cli.main", "serve-workers", "--workers", "2"]
    cmd += ["--ocpp-port", str(ocpp), "--http-port", str(http)]
    cmd += ["--database-url", f"sqlite:///{db}", "--unknown-stations", "accept"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stderr=out)
    api = f"http://127.0.0.1:{http}/api/v1"
    deadline = time.monotonic() + 60
    # The supervisor says so once every worker listens (a health check alone could be
    # answered by the first worker up while the other still starts).
    while "Joule is running with 2 workers" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the workers did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    assert httpx.get(f"{api}/health", timeout=5).status_code == 200
    try:
        yield f"ws://127.0.0.1:{ocpp}/ocpp", api, db, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _station(url: str, station_id: str) -> ClientConnection:
    ws = await connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    boot = {"chargePointVendor": "V", "chargePointModel": "M"}
    await ws.send(json.dumps([2, "1", "BootNotification", boot]))
    assert json.loads(await ws.recv())[2]["status"] == "Accepted"
    return ws


async def _answer_resets(ws: ClientConnection) -> None:
    async for message in ws:
        frame = json.loads(message)
        if frame[0] == 2:
            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))


@pytest.fixture
async def api_client(cluster: tuple[str, str, Path, object]) -> AsyncIterator[httpx.AsyncClient]:
    _, api, _, _ = cluster
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        token = await client.post("/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


@pytest.mark.timeout(120)
async def test_commands_reach_stations_on_either_worker(
    cluster: tuple[str, str, Path, subprocess.Popen[bytes]], api_client: httpx.AsyncClient
) -> None:
    url, _, db, process = cluster
    sockets = [await _station(url, f"CL-{i}") for i in range(12)]
    answering = [asyncio.create_task(_answer_resets(ws)) for ws in sockets]
    with sqlite3.connect(db) as check:
        nodes = dict(
            check.execute(
                "SELECT connected_node, count(*) FROM stations WHERE online GROUP BY 1"
            ).fetchall()
        )
    # The kernel spread the sockets over both workers (SO_REUSEPORT); each knows its own.
    assert len(nodes) == 2 and sum(nodes.values()) == 12, nodes
    assert all(node.endswith(("/w0", "/w1")) for node in nodes)

    # Every command is answered by the station, whichever worker's API took the request.
    for i in range(12):
        resp = await api_client.post(f"/stations/CL-{i}/reset", json={"type": "Soft"})
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"status": "Accepted"}
    assert (await api_client.post("/stations/NOPE/reset", json={"type": "Soft"})).status_code == 404

    await sockets[0].close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        resp = await api_client.post("/stations/CL-0/reset", json={"type": "Soft"})
        if resp.status_code == 409:
            break
        await asyncio.sleep(0.2)
    assert resp.status_code == 409, resp.text  # disconnected: quickly refused, not a timeout

    for ws in sockets[1:]:
        await ws.close()
    await asyncio.gather(*answering, return_exceptions=True)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 60) == 0  # every worker drained
