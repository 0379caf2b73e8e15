"""Robustness scenarios 1, 2 and 4 (ocpp-robustness.md §6): dropped links, crashes, refused writes.

A station must never lose a transaction message because the link or the CSMS failed, and Joule
must never acknowledge what is not durable (C16 §3.7.1, E13.FR.02–04).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL, TEST_DB
from tests.e2e.conftest import MakeJoule, api_client
from tests.e2e.test_charging_session import (
    PASSWORD,
    add_station,
    add_token,
    eventually,
    station_view,
)
from tests.e2e.test_robustness_data import (
    VERSIONS,
    boot_payload,
    connect,
    joule_id,
    meter_value_16,
    now,
    online,
    start_session,
    stop_16,
    stored_events,
    transaction,
    transactions,
    tx_event,
)


def _stop(version: str, tx_id: int, uid: str, wh: int, at: Any) -> tuple[str, dict[str, Any]]:
    if version == "1.6":
        data = [meter_value_16(at - timedelta(minutes=1), wh - 100)]
        return "StopTransaction", stop_16(tx_id, wh, at, "EVDisconnected", data)
    return "TransactionEvent", tx_event(uid, "Ended", 2, at, wh=wh, stopped_reason="EVDisconnected")


# --- scenario 1: drop and resume mid-transaction, no re-boot --------------------------------


@VERSIONS
async def test_s01_drop_and_resume_without_reboot(make_joule: MakeJoule, version: str) -> None:
    """J16 §5.4, C16 §3.7: the dead socket is cleaned up; T continues on the new one."""
    joule = await make_joule()
    api = await api_client(joule)
    sid = f"S01-{version}"
    await add_token(api, "S01-TAG")
    st = await online(joule, api, sid, version)
    t0 = now() - timedelta(minutes=30)
    tx_id = await start_session(st, version, "S01-TX", tag="S01-TAG", wh=1000, at=t0)
    pk = await joule_id(api, sid)

    st.ws.transport.abort()  # TCP gone without a close frame
    await st.close()
    await eventually(lambda: _is_online(api, sid, False))  # the old socket is detected and cleaned

    st = await connect(
        joule, sid, version
    )  # reconnects; boot data unchanged, so no boot (J16 §5.4)
    if version == "1.6":
        await st.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [meter_value_16(t0 + timedelta(minutes=10), 2500)],
            },
        )
    else:
        await st.call(
            "TransactionEvent",
            tx_event("S01-TX", "Updated", 1, t0 + timedelta(minutes=10), wh=2500),
        )
    action, stop = _stop(version, tx_id, "S01-TX", 4000, t0 + timedelta(minutes=20))
    assert (await st.call_frame(action, stop))[0] == 3

    assert await _is_online(api, sid, True)
    assert [t["id"] for t in await transactions(api, sid)] == [pk]  # no duplicate session
    tx = await transaction(api, pk)
    assert tx["status"] == "completed" and tx["energy_wh"] == 3000  # meterStop − meterStart
    assert "2500" in [m["raw_value"] for m in tx["meter_values"]]
    await st.close()
    await api.aclose()


@VERSIONS
async def test_s01_reconnect_while_old_socket_is_half_open(
    make_joule: MakeJoule, version: str
) -> None:
    """The old socket never answers again (half-open TCP): the new connection is served at once."""
    joule = await make_joule()
    api = await api_client(joule)
    sid = f"S01-HALF-{version}"
    old = await online(joule, api, sid, version)
    old.ws.transport.pause_reading()  # a peer that is gone: it will not answer the close frame

    new = await connect(joule, sid, version)
    # Served at once, not after the old socket's close handshake times out (10 s).
    answer = await new.call("Heartbeat", {}, timeout=5)
    assert answer["currentTime"].endswith("Z")
    assert await _is_online(api, sid, True)
    # The old socket was retired by Joule: once the peer reads again, it finds it closed.
    old.ws.transport.resume_reading()
    await asyncio.wait_for(old.ws.wait_closed(), 5)
    assert await _is_online(api, sid, True)  # its end did not mark the station offline
    await new.close()
    await old.close()
    await api.aclose()


async def _is_online(api: httpx.AsyncClient, sid: str, expected: bool) -> bool:
    return bool((await station_view(api, sid))["online"] is expected)


# --- scenario 2: the CSMS dies between commit and reply (or before commit) ------------------


@VERSIONS
@pytest.mark.parametrize("when", ["abort_after_commit", "abort_before_dispatch"])
async def test_s02_crash_around_commit_then_retry_with_new_message_id(
    make_joule: MakeJoule, version: str, when: str
) -> None:
    """C16 §3.7.1, §4.8: the station retries with a new messageId; exactly one transaction."""
    action = "StartTransaction" if version == "1.6" else "TransactionEvent"
    crashing = await make_joule(fault_injection=f"{when}:{action}")
    api = await api_client(crashing)
    sid = f"S02-{version}-{when}"
    await add_station(api, sid)  # with a password: the reconnect after the crash logs in again
    await add_token(api, "S02-TAG")
    st = await connect(crashing, sid, version, password=PASSWORD)
    assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Accepted"
    t0 = now() - timedelta(minutes=1)
    if version == "1.6":
        start: dict[str, Any] = {
            "connectorId": 1,
            "idTag": "S02-TAG",
            "meterStart": 700,
            "timestamp": t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    else:
        start = tx_event("S02-TX", "Started", 0, t0, wh=700, id_token="S02-TAG")

    with pytest.raises(ConnectionError):  # the CSMS went away before answering
        await st.call_frame(action, start, message_id="start-1")
    await api.aclose()
    await crashing.stop()

    joule = await make_joule()  # the CSMS comes back on the same database
    api = await api_client(joule)
    committed = await transactions(api, sid)
    assert len(committed) == (1 if when == "abort_after_commit" else 0)

    st = await connect(joule, sid, version, password=PASSWORD)
    frame = await st.call_frame(action, start, message_id="start-2")
    assert frame[0] == 3, frame
    items = await transactions(api, sid)
    assert len(items) == 1, items
    if committed:
        assert items[0]["id"] == committed[0]["id"]
    if version == "1.6":
        assert frame[2]["transactionId"] == items[0]["id"]  # the same id as the lost answer
        assert frame[2]["idTagInfo"]["status"] == "Accepted"
    else:
        assert frame[2]["idTokenInfo"]["status"] == "Accepted"
        assert await stored_events(joule.settings.database_url, items[0]["id"]) == [(0, "Started")]
    tx = await transaction(api, items[0]["id"])
    assert tx["meter_start_wh"] == "700" and tx["status"] == "active"
    await st.close()
    await api.aclose()


# --- scenario 4: never acknowledge before the data is durable --------------------------------


@asynccontextmanager
async def writes_refused(database_url: str) -> AsyncIterator[None]:
    """Make Joule's database refuse every write until the block ends."""
    if TEST_DB == "sqlite":
        path = make_url(database_url).database
        assert path
        # Another process holds the write lock: Joule's BEGIN IMMEDIATE waits busy_timeout, retries,
        # then gives up with "database is locked".
        holder = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    name = make_url(database_url).database
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        # New sessions start read-only; ending the old ones makes the pool reconnect into that.
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await _end_sessions(admin, name)
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        await _end_sessions(admin, name)
        await admin.close()


async def _end_sessions(admin: asyncpg.Connection, database: str | None) -> None:
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )


@VERSIONS
async def test_s04_never_ack_before_durable(
    make_joule: MakeJoule, database_url: str, version: str
) -> None:
    """C16 §3.7.1, E13.FR.02–04: a refused write is InternalError, the retry is stored once."""
    joule = await make_joule(sqlite_busy_timeout_ms=150, commit_retries=1)
    api = await api_client(joule)
    sid = f"S04-{version}"
    await add_token(api, "S04-TAG")
    st = await online(joule, api, sid, version)
    t0 = now() - timedelta(minutes=40)
    tx_id = await start_session(st, version, "S04-TX", tag="S04-TAG", wh=10_000, at=t0)
    pk = await joule_id(api, sid)
    if version == "2.0.1":
        await st.call(
            "TransactionEvent",
            tx_event("S04-TX", "Updated", 1, t0 + timedelta(minutes=5), wh=10_500),
        )
    action, stop = _stop(version, tx_id, "S04-TX", 16_000, t0 + timedelta(minutes=35))

    async with writes_refused(database_url):
        refused = await st.call_frame(action, stop, message_id="stop-1", timeout=15)
        assert refused[0] == 4 and refused[2] == "InternalError", refused  # never a CALLRESULT
        assert (await transaction(api, pk))["status"] == "active"  # nothing half-written

    # E13.FR.02: the station retries with a new messageId once the database is back.
    accepted = await st.call_frame(action, stop, message_id="stop-2")
    assert accepted[0] == 3, accepted
    again = await st.call_frame(action, stop, message_id="stop-3")  # an extra retry changes nothing
    assert again[0] == 3 and again[2] == accepted[2]
    tx = await transaction(api, pk)
    assert tx["status"] == "completed" and tx["energy_wh"] == 6000
    values = [m["raw_value"] for m in tx["meter_values"]]
    assert len(values) == len(set(values))  # billed once: no reading stored twice
    if version == "2.0.1":
        assert await stored_events(database_url, pk) == [
            (0, "Started"),
            (1, "Updated"),
            (2, "Ended"),
        ]
    assert len(await transactions(api, sid)) == 1
    await st.close()
    await api.aclose()
