"""`joule serve --workers N` end to end: two processes share the ports; commands reach all stations.

Which process holds a socket is read from the kernel (/proc): the worker PIDs are the owners of
the listening OCPP socket, and each accepted connection — a station's WebSocket or one API
request — is mapped to the PID that owns the server end. So the test sees both PIDs serve
stations and sees commands cross from one worker's API to the other worker's station.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import free_port

ADMIN = ("cluster@example.test", "cluster-admin-password")
_LISTEN, _ESTABLISHED = "0A", "01"  # TCP states in /proc/net/tcp
_MAX_STATIONS = 64  # SO_REUSEPORT hashes the 4-tuple: 64 stations on one of 2 workers is 2⁻⁶³


@dataclass(frozen=True)
class Cluster:
    ocpp_url: str
    ocpp_port: int
    http_port: int
    db: Path
    process: subprocess.Popen[bytes]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/api/v1"


def _tcp_sockets(port: int) -> list[tuple[str, int, int]]:
    """(state, remote port, inode) of every TCP socket whose local port is `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == port:
                    found.append((state, int(remote.rsplit(":", 1)[1], 16), int(inode)))
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


class Owners:
    """Which worker PID owns the server end of a connection on a port."""

    def __init__(self, cluster: Cluster) -> None:
        listening = {i for s, _, i in _tcp_sockets(cluster.ocpp_port) if s == _LISTEN}
        self.inodes = {pid: _socket_inodes(pid) for pid in _descendants(cluster.process.pid)}
        # The workers are the processes that listen on the OCPP port (not the supervisor,
        # nor multiprocessing's resource tracker).
        self.workers = sorted(p for p, inodes in self.inodes.items() if inodes & listening)

    def refresh(self) -> None:
        self.inodes = {pid: _socket_inodes(pid) for pid in self.workers}

    def of(self, port: int, client_port: int) -> int | None:
        """The worker holding the accepted connection from local `client_port` to `port`."""
        for state, remote, inode in _tcp_sockets(port):
            if state == _ESTABLISHED and remote == client_port:
                for pid in self.workers:
                    if inode in self.inodes[pid]:
                        return pid
        return None


def _start(tmp_path: Path, args: list[str], env: dict[str, str]) -> Cluster:
    ocpp, http = free_port(), free_port()
    db = tmp_path / "joule.db"
    env = {
        **os.environ,
        "JOULE_ADMIN_EMAIL": ADMIN[0],
        "JOULE_ADMIN_PASSWORD": ADMIN[1],
        "JOULE_LOG_LEVEL": "WARNING",
        **env,
    }
    cmd = [sys.executable, "-m", "joule.cli.main", *args]
    cmd += ["--ocpp-port", str(ocpp), "--http-port", str(http)]
    cmd += ["--database-url", f"sqlite:///{db}", "--unknown-stations", "accept"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stderr=out)
    deadline = time.monotonic() + 90  # two interpreters importing the runtime on a busy box
    # The supervisor says so once every worker listens (a health check alone could be
    # answered by the first worker up while the other still starts).
    while "Joule is running with 2 workers" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or process.poll() is not None:
            _stop(process)
            pytest.fail(f"the workers did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    cluster = Cluster(f"ws://127.0.0.1:{ocpp}/ocpp", ocpp, http, db, process)
    assert httpx.get(f"{cluster.api}/health", timeout=10).status_code == 200
    return cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """`joule serve --workers 2` on a fresh SQLite database."""
    started = _start(tmp_path, ["serve", "--workers", "2"], {})
    try:
        yield started
    finally:
        _stop(started.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the workers drain), SIGKILL only if that hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
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
async def api_client(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cluster.api, timeout=30) as client:
        token = await client.post("/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def _reset_on_new_connection(
    cluster: Cluster, owners: Owners, station_id: str, token: str
) -> tuple[int, dict[str, object], int | None]:
    """POST a reset on a fresh TCP connection; (status, body, PID of the worker that took it)."""
    conn = http.client.HTTPConnection("127.0.0.1", cluster.http_port, timeout=30)
    try:
        conn.connect()
        assert conn.sock is not None
        client_port = conn.sock.getsockname()[1]
        body = json.dumps({"type": "Soft"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", f"/api/v1/stations/{station_id}/reset", body, headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read() or b"null")
        # Still open (keep-alive): the worker that accepted it holds the server end.
        owners.refresh()
        return resp.status, answer, owners.of(cluster.http_port, client_port)
    finally:
        conn.close()


@pytest.mark.timeout(240)
async def test_commands_reach_stations_on_either_worker(
    cluster: Cluster, api_client: httpx.AsyncClient
) -> None:
    owners = Owners(cluster)
    assert len(owners.workers) == 2, owners.inodes  # two processes listen on the OCPP port

    # Connect until the kernel has given each worker at least one station (SO_REUSEPORT
    # spreads connections by hash, so a fixed count could land on one worker by chance).
    sockets: list[ClientConnection] = []
    holder: dict[str, int] = {}  # station id → PID of the worker holding its socket
    deadline = time.monotonic() + 120
    while len(set(holder.values())) < 2 or len(sockets) < 4:
        assert len(sockets) < _MAX_STATIONS and time.monotonic() < deadline, holder
        station_id = f"CL-{len(sockets)}"
        ws = await _station(cluster.ocpp_url, station_id)
        sockets.append(ws)
        owners.refresh()
        pid = owners.of(cluster.ocpp_port, ws.local_address[1])
        assert pid is not None, station_id
        holder[station_id] = pid
    answering = [asyncio.create_task(_answer_resets(ws)) for ws in sockets]

    # Each worker recorded the stations it holds under its own node name (presence).
    nodes: dict[str, int] = {}
    while sum(nodes.values()) < len(sockets):
        assert time.monotonic() < deadline, nodes
        with sqlite3.connect(cluster.db) as check:
            nodes = dict(
                check.execute(
                    "SELECT connected_node, count(*) FROM stations WHERE online GROUP BY 1"
                ).fetchall()
            )
        await asyncio.sleep(0.1)
    assert len(nodes) == 2 and all(node.endswith(("/w0", "/w1")) for node in nodes), nodes

    # Every command is answered by the station, whichever worker's API took the request; go on
    # until a request has crossed from each worker's API to a station the other one holds.
    token = str(api_client.headers["Authorization"]).removeprefix("Bearer ")
    crossed: set[tuple[int, int]] = set()
    rounds = 0
    while len(crossed) < 2:
        assert rounds < 20 and time.monotonic() < deadline, crossed
        rounds += 1
        for station_id, station_worker in holder.items():
            status, body, api_worker = await asyncio.to_thread(
                _reset_on_new_connection, cluster, owners, station_id, token
            )
            assert (status, body) == (200, {"status": "Accepted"}), (station_id, status, body)
            assert api_worker in owners.workers
            if api_worker != station_worker:
                crossed.add((api_worker, station_worker))
    assert (await api_client.post("/stations/NOPE/reset", json={"type": "Soft"})).status_code == 404

    await sockets[0].close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        resp = await api_client.post("/stations/CL-0/reset", json={"type": "Soft"})
        if resp.status_code == 409:
            break
        await asyncio.sleep(0.2)
    assert resp.status_code == 409, resp.text  # disconnected: quickly refused, not a timeout

    for ws in sockets[1:]:
        await ws.close()
    await asyncio.gather(*answering, return_exceptions=True)
    cluster.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(cluster.process.wait, 60) == 0  # every worker drained


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["serve"], {"JOULE_WORKERS": "2"}),  # the count from the environment
        (["serve-workers"], {}),  # the older command, kept as an alias (2 workers by default)
    ],
)
async def test_workers_from_the_environment_and_the_alias(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    cluster = _start(tmp_path, args, env)
    try:
        owners = Owners(cluster)
        assert len(owners.workers) == 2
        ws = await _station(cluster.ocpp_url, "ALIAS-1")
        await ws.close()
        cluster.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(cluster.process.wait, 60) == 0
    finally:
        _stop(cluster.process)


def test_workers_refuse_the_demo_fleet() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "joule.cli.main", "serve", "--workers", "2", "--demo", "5"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"--demo runs in one process" in done.stderr


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (orphans are reaped by init, not by us)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.timeout(180)
def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    cluster = _start(tmp_path, ["serve", "--workers", "2"], {})
    workers = Owners(cluster).workers
    assert len(workers) == 2 and all(_running(pid) for pid in workers)
    cluster.process.kill()  # no chance to forward a signal: the workers notice on their own
    cluster.process.wait()
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in workers):
        assert time.monotonic() < deadline, f"orphaned workers still running: {workers}"
        time.sleep(0.2)
