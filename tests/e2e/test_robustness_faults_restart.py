"""Robustness scenario 3 (ocpp-robustness.md §6): the CSMS restarts while stations charge.

Graceful (Joule.stop(), what SIGTERM runs) and hard (`joule serve` killed with SIGKILL) restarts:
transactions stay open, later stops are accepted, stations need no reboot, and SIGTERM drains
with close code 1001 and exit code 0 (contract).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB, free_port
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import add_station, add_token, eventually
from tests.e2e.test_robustness_data import (
    boot_payload,
    meter_value_16,
    now,
    start_session,
    stop_16,
    transaction,
    transactions,
    tx_event,
)

# Two stations of each version, each with one transaction running.
FLEET = [("S03-16-A", "1.6"), ("S03-16-B", "1.6"), ("S03-201-A", "2.0.1"), ("S03-201-B", "2.0.1")]


@dataclass
class Charging:
    """A station of the fleet and the transaction it is running."""

    sid: str
    version: str
    tx_id: int  # 1.6: the transactionId Joule issued; 2.0.1: -1 (the station's id is `uid`)
    uid: str
    start_wh: int
    st: TestStation


async def start_fleet(url: str, api: httpx.AsyncClient) -> list[Charging]:
    """Register, connect, boot every station of FLEET and start a transaction on each."""
    fleet = []
    for n, (sid, version) in enumerate(FLEET):
        # No password: Basic auth is covered elsewhere, and its hashing would dominate the time.
        await add_station(api, sid, password=None)
        await add_token(api, f"{sid}-TAG")
        st = await TestStation.connect(url, sid, subprotocols=[f"ocpp{version}"])
        assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Accepted"
        uid = f"{sid}-TX"
        start_wh = 1000 * (n + 1)
        at = now() - timedelta(minutes=30)
        tx_id = await start_session(st, version, uid, tag=f"{sid}-TAG", wh=start_wh, at=at)
        fleet.append(Charging(sid, version, tx_id, uid, start_wh, st))
    return fleet


async def reconnect_and_stop(url: str, api: httpx.AsyncClient, fleet: list[Charging]) -> None:
    """Every station reconnects without a boot and ends its transaction; each stop is accepted."""
    for c in fleet:
        c.st = await TestStation.connect(url, c.sid, subprotocols=[f"ocpp{c.version}"])
        at = now() - timedelta(minutes=1)
        if c.version == "1.6":
            data = [meter_value_16(at - timedelta(minutes=5), c.start_wh + 1500)]
            frame = await c.st.call_frame(
                "StopTransaction", stop_16(c.tx_id, c.start_wh + 2000, at, "Local", data)
            )
        else:
            ended = tx_event(c.uid, "Ended", 1, at, wh=c.start_wh + 2000, stopped_reason="Local")
            frame = await c.st.call_frame("TransactionEvent", ended)
        assert frame[0] == 3, (c.sid, frame)
    for c in fleet:
        items = await transactions(api, c.sid)
        assert len(items) == 1, items  # no duplicate after the restart
        tx = await transaction(api, items[0]["id"])
        assert tx["status"] == "completed" and tx["energy_wh"] == 2000, tx


async def assert_all_open(api: httpx.AsyncClient) -> None:
    """Every fleet transaction is still active after the restart."""
    for c in FLEET:
        items = await transactions(api, c[0], "active")
        assert len(items) == 1, (c, items)


async def closed_with(st: TestStation, timeout: float = 10) -> int | None:
    """The close code the station saw once its socket closed."""
    await asyncio.wait_for(st.ws.wait_closed(), timeout)
    return st.ws.close_code


# --- graceful: Joule.stop() -----------------------------------------------------------------


async def test_s03_graceful_restart_keeps_transactions_open(make_joule: MakeJoule) -> None:
    """P4 §5.3, lbbrhzn#1096: a drain closes with 1001; a new process takes over on the same DB."""
    first = await make_joule(call_timeout_s=10.0)
    api = await api_client(first)
    fleet = await start_fleet(ocpp_url(first), api)
    # A command in flight when the CSMS stops is reported failed, never silently dropped.
    busy = fleet[0]
    busy.st.silent = True
    command = asyncio.create_task(api.post(f"/stations/{busy.sid}/reset", json={"type": "Soft"}))
    await eventually(lambda: _received(busy.st, "Reset"))

    await first.stop()

    answer = await asyncio.wait_for(command, 10)
    assert answer.status_code in (409, 503), answer.text  # failed, told so; not a 500, not lost
    assert [await closed_with(c.st) for c in fleet] == [1001] * len(fleet)
    await api.aclose()

    second = await make_joule()
    api = await api_client(second)
    await assert_all_open(api)
    await reconnect_and_stop(ocpp_url(second), api, fleet)
    for c in fleet:
        await c.st.close()
    await api.aclose()


async def _received(st: TestStation, action: str) -> bool:
    return any(call[2] == action for call in st.received_calls)


@asynccontextmanager
async def writes_held(database_url: str) -> AsyncIterator[None]:
    """Hold a lock that makes Joule's writes wait (not fail) until the block ends."""
    if TEST_DB == "sqlite":
        path = make_url(database_url).database
        assert path
        holder = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # Joule's BEGIN IMMEDIATE waits (busy_timeout)
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    locker = await asyncpg.connect(database_url)
    try:
        async with locker.transaction():
            # Reads go on; every write to transactions waits for this lock.
            await locker.execute("LOCK TABLE transactions IN EXCLUSIVE MODE")
            yield
    finally:
        await locker.close()


async def test_s03_drain_finishes_in_flight_messages(
    make_joule: MakeJoule, database_url: str
) -> None:
    """Contract (SIGTERM drains): a stop in flight when the CSMS stops is answered, then 1001."""
    joule = await make_joule()
    api = await api_client(joule)
    sid = "S03-DRAIN"
    await add_station(api, sid, password=None)
    await add_token(api, "S03-DRAIN-TAG")
    st = await TestStation.connect(ocpp_url(joule), sid, subprotocols=["ocpp1.6"])
    assert (await st.call("BootNotification", boot_payload("1.6")))["status"] == "Accepted"
    t0 = now() - timedelta(minutes=20)
    tx_id = await start_session(st, "1.6", "", tag="S03-DRAIN-TAG", wh=100, at=t0)
    await api.aclose()

    async with writes_held(database_url):
        stop = asyncio.create_task(
            st.call_frame("StopTransaction", stop_16(tx_id, 900, t0 + timedelta(minutes=15)))
        )
        await asyncio.sleep(0.3)  # the stop is in flight, waiting for the database
        stopping = asyncio.create_task(joule.stop())
        await asyncio.sleep(0.3)
        assert not stop.done() and not stopping.done()  # the drain waits for it
    frame = await asyncio.wait_for(stop, 10)
    await asyncio.wait_for(stopping, 15)
    assert frame[0] == 3, frame  # answered before the socket closed
    assert await closed_with(st) == 1001

    again = await make_joule()
    api = await api_client(again)
    tx = await transaction(api, tx_id)
    assert tx["status"] == "completed" and tx["energy_wh"] == 800  # and it was durable
    await api.aclose()


# --- hard: SIGKILL of `joule serve`, then SIGTERM drains ------------------------------------


def _text(log: Path) -> str:
    return log.read_text(errors="replace")


@dataclass
class Served:
    """A `joule serve` subprocess and where it listens."""

    process: asyncio.subprocess.Process
    http_port: int
    ocpp_port: int
    log: Path

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/api/v1"


async def serve(database_url: str, log: Path, *, flags: bool = True) -> Served:
    """Start `joule serve` as its own process and wait until it is healthy.

    Where to listen and which database come from flags, or (flags=False) only from JOULE_*
    variables: the contract promises both.
    """
    http_port, ocpp_port = free_port(), free_port()
    where = {
        "host": "127.0.0.1",
        "http_port": str(http_port),
        "ocpp_port": str(ocpp_port),
        "database_url": database_url,
    }
    env = {
        **os.environ,
        "JOULE_ADMIN_EMAIL": ADMIN_EMAIL,
        "JOULE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "JOULE_JWT_SECRET": "test-secret-test-secret-test-secret",
        "JOULE_UNKNOWN_STATIONS": "reject",
    }
    args = [sys.executable, "-m", "joule.cli.main", "serve"]
    if flags:
        for name, value in where.items():
            args += [f"--{name.replace('_', '-')}", value]
    else:
        env |= {f"JOULE_{name.upper()}": value for name, value in where.items()}
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *args, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
    served = Served(process, http_port, ocpp_port, log)
    deadline = asyncio.get_running_loop().time() + 60  # a busy CI machine
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"joule serve exited {process.returncode}:\n{_text(log)}")
            try:
                if (await client.get(f"{served.api_url}/health")).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                process.kill()
                raise AssertionError(f"joule serve never became healthy:\n{_text(log)}")
            await asyncio.sleep(0.1)


async def login(served: Served) -> httpx.AsyncClient:
    """An admin API client of a served process."""
    client = httpx.AsyncClient(base_url=served.api_url, timeout=15)
    resp = await client.post(
        "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return client


@pytest.fixture
async def processes() -> AsyncIterator[list[Served]]:
    """Served processes of a test; any still running at the end is killed."""
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.returncode is None:
            served.process.kill()
            await served.process.wait()


async def test_s03_sigkill_restart_then_sigterm_drains(
    database_url: str, tmp_path: Path, processes: list[Served]
) -> None:
    """SIGKILL loses nothing committed; SIGTERM closes stations with 1001 and exits 0 (contract)."""
    log = tmp_path / "joule-serve.log"
    first = await serve(database_url, log)
    processes.append(first)
    api = await login(first)
    fleet = await start_fleet(first.ocpp_url, api)
    await api.aclose()

    first.process.send_signal(signal.SIGKILL)
    assert await asyncio.wait_for(first.process.wait(), 10) == -signal.SIGKILL
    codes = [await closed_with(c.st) for c in fleet]
    assert all(code != 1001 for code in codes), codes  # no drain happened: the link just broke

    second = await serve(database_url, log, flags=False)
    processes.append(second)
    api = await login(second)
    await assert_all_open(api)
    await reconnect_and_stop(second.ocpp_url, api, fleet)
    await api.aclose()

    second.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.process.wait(), 20) == 0, _text(log)
    assert [await closed_with(c.st) for c in fleet] == [1001] * len(fleet)
