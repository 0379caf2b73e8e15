"""Robustness scenarios 5, 6, 12 (ocpp-robustness.md §6): transaction data never lost nor doubled.

Every test drives a real Joule over WebSockets and looks at the result through the REST API; what
the API does not show (stored 2.x events, parked messages) is read from the same database.
The helpers at the top are shared by the other test_robustness_data*/faults* modules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.runtime import Joule
from joule.storage.db import create_engine, session_factory
from joule.storage.models import ParkedMessage, TransactionEvent
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import add_station, add_token

T = TypeVar("T")
VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])


# --- shared helpers -------------------------------------------------------------------------


def now() -> datetime:
    """The current time, UTC, whole seconds (what stations send)."""
    return datetime.now(UTC).replace(microsecond=0)


def iso(at: datetime) -> str:
    """An OCPP timestamp in UTC with a Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """An API or OCPP timestamp as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def boot_payload(version: str) -> dict[str, Any]:
    """A minimal BootNotification for the version."""
    if version == "1.6":
        return {"chargePointVendor": "Acme", "chargePointModel": "Robust"}
    return {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "Robust"}}


async def connect(
    joule: Joule, sid: str, version: str, *, password: str | None = None
) -> TestStation:
    """Open the station's WebSocket (no BootNotification); no password unless one is given."""
    return await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=password
    )


async def online(joule: Joule, api: httpx.AsyncClient, sid: str, version: str) -> TestStation:
    """Register the station, connect it and boot it (Accepted).

    Security profile 0: Basic auth has its own tests, and password hashing would dominate the
    run time of these data scenarios.
    """
    await add_station(api, sid, password=None)
    st = await connect(joule, sid, version)
    boot = await st.call("BootNotification", boot_payload(version))
    assert boot["status"] == "Accepted", boot
    return st


async def transactions(
    api: httpx.AsyncClient, sid: str, status: str | None = None
) -> list[dict[str, Any]]:
    """The station's transactions as the API lists them."""
    params = {"station_id": sid, "limit": "500"} | ({"status": status} if status else {})
    resp = await api.get("/transactions", params=params)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def transaction(api: httpx.AsyncClient, pk: int) -> dict[str, Any]:
    """One transaction with its meter values."""
    resp = await api.get(f"/transactions/{pk}")
    assert resp.status_code == 200, resp.text
    detail: dict[str, Any] = resp.json()
    return detail


async def read_db(database_url: str, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run a read-only query on Joule's database from outside Joule (what the API does not show)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await query(session)
    finally:
        await engine.dispose()


async def stored_events(database_url: str, transaction_pk: int) -> list[tuple[int, str]]:
    """(seqNo, eventType) of every stored TransactionEvent of a transaction."""

    async def query(session: AsyncSession) -> list[tuple[int, str]]:
        rows = await session.execute(
            select(TransactionEvent.seq_no, TransactionEvent.event_type)
            .where(TransactionEvent.transaction_pk == transaction_pk)
            .order_by(TransactionEvent.seq_no)
        )
        return [(int(seq), str(kind)) for seq, kind in rows]

    return await read_db(database_url, query)


def register_wh(wh: int, context: str | None = None) -> dict[str, Any]:
    """A 1.6 sampledValue for the energy register."""
    sample: dict[str, Any] = {
        "value": str(wh),
        "measurand": "Energy.Active.Import.Register",
        "unit": "Wh",
    }
    if context is not None:
        sample["context"] = context
    return sample


def meter_value_16(at: datetime, wh: int, context: str | None = None) -> dict[str, Any]:
    """One 1.6 MeterValue with a single register reading."""
    return {"timestamp": iso(at), "sampledValue": [register_wh(wh, context)]}


def tx_event(
    uid: str,
    event_type: str,
    seq_no: int,
    at: datetime,
    *,
    wh: int | None = None,
    id_token: str | None = None,
    offline: bool = False,
    stopped_reason: str | None = None,
    evse: int = 1,
) -> dict[str, Any]:
    """A 2.0.1 TransactionEvent with an optional energy register reading."""
    trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}
    info: dict[str, Any] = {"transactionId": uid}
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": iso(at),
        "triggerReason": trigger[event_type],
        "seqNo": seq_no,
        "transactionInfo": info,
        "evse": {"id": evse, "connectorId": 1},
    }
    if offline:
        payload["offline"] = True
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": "ISO14443"}
    if wh is not None:
        context = {
            "Started": "Transaction.Begin",
            "Updated": "Sample.Periodic",
            "Ended": "Transaction.End",
        }[event_type]
        payload["meterValue"] = [
            {
                "timestamp": iso(at),
                "sampledValue": [
                    {
                        "value": wh,
                        "measurand": "Energy.Active.Import.Register",
                        "context": context,
                    }
                ],
            }
        ]
    return payload


async def start_16(
    st: TestStation, tag: str, meter_start: int, at: datetime, connector: int = 1
) -> dict[str, Any]:
    """1.6 StartTransaction; returns the .conf."""
    return await st.call(
        "StartTransaction",
        {"connectorId": connector, "idTag": tag, "meterStart": meter_start, "timestamp": iso(at)},
    )


def stop_16(
    tx_id: int,
    meter_stop: int,
    at: datetime,
    reason: str | None = None,
    data: list[dict[str, Any]] | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """A 1.6 StopTransaction payload."""
    payload: dict[str, Any] = {
        "transactionId": tx_id,
        "meterStop": meter_stop,
        "timestamp": iso(at),
    }
    if reason is not None:
        payload["reason"] = reason
    if data is not None:
        payload["transactionData"] = data
    if tag is not None:
        payload["idTag"] = tag
    return payload


async def start_session(
    st: TestStation, version: str, uid: str, *, tag: str, wh: int, at: datetime
) -> int:
    """Start a transaction (1.6 StartTransaction / 2.0.1 TransactionEvent Started); Joule's id."""
    if version == "1.6":
        conf = await start_16(st, tag, wh, at)
        assert conf["idTagInfo"]["status"] == "Accepted"
        tx_id: int = conf["transactionId"]
        return tx_id
    result = await st.call("TransactionEvent", tx_event(uid, "Started", 0, at, wh=wh, id_token=tag))
    assert result["idTokenInfo"]["status"] == "Accepted"
    return -1  # 2.0.1: the station's id is `uid`; look Joule's id up through the API


async def joule_id(api: httpx.AsyncClient, sid: str) -> int:
    """Joule's id of the station's only transaction."""
    items = await transactions(api, sid)
    assert len(items) == 1, items
    pk: int = items[0]["id"]
    return pk


# --- scenario 5: duplicate StopTransaction (1.6) --------------------------------------------


async def test_s05_duplicate_stop_transaction_stored_once(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    """C16 §4.10, Q20: a retried stop (new messageId) is answered normally and stored once."""
    sid = "S05-16"
    st = await online(joule, api, sid, "1.6")
    await add_token(api, "S05-TAG")
    t0 = now() - timedelta(minutes=30)
    tx_id = (await start_16(st, "S05-TAG", 1000, t0))["transactionId"]
    data = [meter_value_16(t0 + timedelta(minutes=i + 1), 1000 + 100 * (i + 1)) for i in range(20)]
    stop = stop_16(tx_id, 3000, t0 + timedelta(minutes=25), "EVDisconnected", data, "S05-TAG")

    first = await st.call_frame("StopTransaction", stop, message_id="stop-1")
    second = await st.call_frame("StopTransaction", stop, message_id="stop-2")

    assert first[0] == 3 and second[0] == 3, (first, second)
    assert first[2] == second[2] == {"idTagInfo": {"status": "Accepted"}}
    tx = await transaction(api, tx_id)
    assert tx["status"] == "completed" and tx["stop_reason"] == "EVDisconnected"
    assert tx["energy_wh"] == 2000
    assert len(tx["meter_values"]) == 20  # not 40
    assert len(await transactions(api, sid)) == 1
    await st.close()


# --- scenario 6: retried TransactionEvent (2.0.1) with a new messageId -----------------------


async def test_s06_retried_transaction_event_stored_once(
    joule: Joule, api: httpx.AsyncClient, database_url: str
) -> None:
    """P4 §4.1.4: a retry has a new messageId; the key (tx, seqNo, type, time) finds it."""
    sid = "S06-201"
    st = await online(joule, api, sid, "2.0.1")
    await add_token(api, "S06-TOKEN")
    t0 = now() - timedelta(minutes=20)
    await start_session(st, "2.0.1", "S06-TX", tag="S06-TOKEN", wh=500, at=t0)
    updated = tx_event("S06-TX", "Updated", 5, t0 + timedelta(minutes=10), wh=2500)

    first = await st.call_frame("TransactionEvent", updated, message_id="te-5-a")
    second = await st.call_frame("TransactionEvent", updated, message_id="te-5-b")

    assert first[0] == 3 and second[0] == 3 and first[2] == second[2] == {}
    pk = await joule_id(api, sid)
    assert await stored_events(database_url, pk) == [(0, "Started"), (5, "Updated")]
    tx = await transaction(api, pk)
    assert [m["raw_value"] for m in tx["meter_values"]] == ["500", "2500"]
    assert tx["energy_wh"] == 2000 and tx["status"] == "active"
    await st.close()


# --- scenario 12: StopTransaction for an id never issued ------------------------------------


async def test_s12_stop_for_unknown_transaction_is_answered_and_parked(
    joule: Joule, api: httpx.AsyncClient, database_url: str
) -> None:
    """C16 §4.10, Q18: always a StopTransaction.conf; the record is parked for reconciliation."""
    sid = "S12-16"
    st = await online(joule, api, sid, "1.6")
    at = now() - timedelta(minutes=5)
    for tx_id in (-1, 987654):
        frame = await st.call_frame("StopTransaction", stop_16(tx_id, 1234, at, "Local"))
        assert frame[0] == 3 and frame[2] == {}, frame

    async def parked(session: AsyncSession) -> list[tuple[str, str, int]]:
        rows = await session.execute(
            select(ParkedMessage.action, ParkedMessage.reason, ParkedMessage.payload).where(
                ParkedMessage.station_id == sid
            )
        )
        return sorted((a, r, int(p["transactionId"])) for a, r, p in rows)

    assert await read_db(database_url, parked) == [
        ("StopTransaction", "unknown transactionId -1", -1),
        ("StopTransaction", "unknown transactionId 987654", 987654),
    ]
    assert await transactions(api, sid) == []  # nothing invented

    async def events(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(TransactionEvent)) or 0)

    assert await read_db(database_url, events) == 0
    await st.close()
