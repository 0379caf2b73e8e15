"""Robustness scenarios 5–12 (ocpp-robustness.md §6): transaction data is never lost nor doubled.

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


# --- scenario 7: an offline 2.0.1 session replayed after reconnect --------------------------


@pytest.mark.parametrize(
    ("token_status", "expected"), [("Accepted", "Accepted"), (None, "Invalid")]
)
async def test_s07_offline_session_replayed_with_its_own_times(
    joule: Joule,
    api: httpx.AsyncClient,
    database_url: str,
    token_status: str | None,
    expected: str,
) -> None:
    """E04.FR.01–03, E05.FR.01/02: queued events keep their times; a refused token keeps data."""
    sid = f"S07-{expected}"
    token = f"S07-{expected}-TOKEN"
    if token_status is not None:
        await add_token(api, token, token_status)
    await add_station(api, sid, password=None)
    t0 = now() - timedelta(hours=2)
    # Offline for two hours: the station comes back, boots, then flushes its queue in order.
    st = await connect(joule, sid, "2.0.1")
    assert (await st.call("BootNotification", boot_payload("2.0.1")))["status"] == "Accepted"
    queue = [
        tx_event("S07-TX", "Started", 0, t0, wh=10_000, id_token=token, offline=True),
        tx_event("S07-TX", "Updated", 1, t0 + timedelta(minutes=15), wh=12_500, offline=True),
        tx_event("S07-TX", "Updated", 2, t0 + timedelta(minutes=30), wh=15_000, offline=True),
        tx_event(
            "S07-TX",
            "Ended",
            3,
            t0 + timedelta(minutes=45),
            wh=17_250,
            offline=True,
            stopped_reason="EVDisconnected",
        ),
    ]
    answers = [await st.call_frame("TransactionEvent", event) for event in queue]

    assert [a[0] for a in answers] == [3, 3, 3, 3]  # all acknowledged: nothing to retry
    assert answers[0][2]["idTokenInfo"]["status"] == expected
    pk = await joule_id(api, sid)
    tx = await transaction(api, pk)
    assert tx["status"] == "completed" and tx["stop_reason"] == "EVDisconnected"
    assert parse_iso(tx["started_at"]) == t0  # payload time, not arrival time
    assert parse_iso(tx["stopped_at"]) == t0 + timedelta(minutes=45)
    assert tx["energy_wh"] == 7250 and tx["id_token"] == token
    assert tx["incomplete"] is False and tx["missing_seq_nos"] is None  # complete by seqNo
    assert [parse_iso(m["timestamp"]) for m in tx["meter_values"]] == [
        t0 + timedelta(minutes=15 * i) for i in range(4)
    ]
    assert await stored_events(database_url, pk) == [
        (0, "Started"),
        (1, "Updated"),
        (2, "Updated"),
        (3, "Ended"),
    ]
    assert tx["offline"] is True and tx["auth_status"] == expected
    await st.close()


# --- scenario 8: out-of-order and missing seqNo ---------------------------------------------


async def test_s08_missing_seq_no_flags_incomplete_until_it_arrives(
    joule: Joule, api: httpx.AsyncClient, database_url: str
) -> None:
    """E §1.3.2: complete only with Started, Ended and every seqNo between; any order."""
    sid = "S08-201"
    st = await online(joule, api, sid, "2.0.1")
    await add_token(api, "S08-TOKEN")
    t0 = now() - timedelta(minutes=40)
    answers = [
        await st.call_frame("TransactionEvent", event)
        for event in (
            tx_event("S08-TX", "Started", 0, t0, wh=0, id_token="S08-TOKEN"),
            tx_event("S08-TX", "Ended", 3, t0 + timedelta(minutes=30), wh=9000),
            tx_event("S08-TX", "Updated", 2, t0 + timedelta(minutes=20), wh=6000),
        )
    ]
    assert [a[0] for a in answers] == [3, 3, 3]
    pk = await joule_id(api, sid)
    tx = await transaction(api, pk)
    assert tx["status"] == "completed" and tx["energy_wh"] == 9000
    assert tx["incomplete"] is True and tx["missing_seq_nos"] == "1"
    listed = (await transactions(api, sid))[0]
    assert listed["incomplete"] is True and listed["missing_seq_nos"] == "1"
    # E14: before final billing the operator asks whether seqNo 1 is still queued.
    st.answers["GetTransactionStatus"] = lambda action, payload: {
        "messagesInQueue": True,
        "ongoingIndicator": False,
    }
    resp = await api.post(
        f"/stations/{sid}/ocpp/GetTransactionStatus", json={"transactionId": "S08-TX"}
    )
    assert resp.status_code == 200 and resp.json()["response"]["messagesInQueue"] is True
    assert st.received_calls[-1][2:] == ["GetTransactionStatus", {"transactionId": "S08-TX"}]

    late = tx_event("S08-TX", "Updated", 1, t0 + timedelta(minutes=10), wh=3000)
    assert (await st.call_frame("TransactionEvent", late))[0] == 3
    tx = await transaction(api, pk)
    assert tx["incomplete"] is False and tx["missing_seq_nos"] is None
    assert tx["energy_wh"] == 9000  # a late Updated never moves the final energy
    assert [seq for seq, _ in await stored_events(database_url, pk)] == [0, 1, 2, 3]
    await st.close()


# --- scenario 9: seqNo per transaction and continuous seqNo ---------------------------------


async def test_s09_seq_no_reset_per_transaction_and_continuous(
    joule: Joule, api: httpx.AsyncClient, database_url: str
) -> None:
    """OCTT TC_E_53: both seqNo models work; the dedupe key includes the transaction."""
    await add_token(api, "S09-TOKEN")
    t0 = now() - timedelta(hours=1)
    # Station A restarts seqNo at 0 for each transaction; both use the same times on purpose, so
    # only the transaction tells their events apart.
    a = await online(joule, api, "S09-RESET", "2.0.1")
    for uid, wh in (("S09-A1", 1000), ("S09-A2", 5000)):
        for event in (
            tx_event(uid, "Started", 0, t0, wh=wh, id_token="S09-TOKEN"),
            tx_event(uid, "Ended", 1, t0 + timedelta(minutes=10), wh=wh + 2000),
        ):
            assert (await a.call_frame("TransactionEvent", event))[0] == 3
    # Station B counts seqNo on continuously across transactions (P2 E §1.3.2.1).
    b = await online(joule, api, "S09-CONT", "2.0.1")
    seq = 41
    for uid, wh in (("S09-B1", 0), ("S09-B2", 7000)):
        events = [
            tx_event(uid, "Started", seq, t0, wh=wh, id_token="S09-TOKEN"),
            tx_event(uid, "Updated", seq + 1, t0 + timedelta(minutes=5), wh=wh + 1000),
            tx_event(uid, "Ended", seq + 2, t0 + timedelta(minutes=10), wh=wh + 3000),
        ]
        for event in events:
            assert (await b.call_frame("TransactionEvent", event))[0] == 3
        seq += 3

    for sid, expected in (("S09-RESET", 2000), ("S09-CONT", 3000)):
        items = await transactions(api, sid)
        assert len(items) == 2
        for item in items:
            assert item["status"] == "completed" and item["incomplete"] is False, item
            assert item["energy_wh"] == expected
    for item in await transactions(api, "S09-RESET"):
        assert await stored_events(database_url, item["id"]) == [(0, "Started"), (1, "Ended")]
    await a.close()
    await b.close()


# --- scenario 10: 1.6 offline transactions, valid and invalid tag ---------------------------


async def test_s10_offline_transactions_valid_and_invalid_tag(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    """OCTT TC_039 / TC_037: hours-old starts get a transactionId; an unknown tag is Invalid."""
    sid = "S10-16"
    st = await online(joule, api, sid, "1.6")
    await add_token(api, "S10-OK")
    t0 = now() - timedelta(hours=4)

    valid = await start_16(st, "S10-OK", 100, t0)
    assert valid["idTagInfo"]["status"] == "Accepted" and valid["transactionId"] > 0
    stop = await st.call(
        "StopTransaction", stop_16(valid["transactionId"], 5100, t0 + timedelta(hours=1), "Local")
    )
    assert stop == {}
    invalid = await start_16(st, "S10-UNKNOWN", 5100, t0 + timedelta(minutes=70))
    assert invalid["idTagInfo"]["status"] == "Invalid" and invalid["transactionId"] > 0
    assert invalid["transactionId"] != valid["transactionId"]
    await st.call(
        "StopTransaction",
        stop_16(invalid["transactionId"], 5300, t0 + timedelta(minutes=72), "DeAuthorized"),
    )

    first = await transaction(api, valid["transactionId"])
    assert parse_iso(first["started_at"]) == t0
    assert parse_iso(first["stopped_at"]) == t0 + timedelta(hours=1)
    assert first["energy_wh"] == 5000 and first["stop_reason"] == "Local"
    assert first["auth_status"] == "Accepted"
    second = await transaction(api, invalid["transactionId"])
    assert second["status"] == "completed" and second["stop_reason"] == "DeAuthorized"
    assert second["energy_wh"] == 200 and second["id_token"] == "S10-UNKNOWN"
    assert second["auth_status"] == "Invalid"  # flagged: kept, but not to be billed as valid
    assert parse_iso(second["started_at"]) == t0 + timedelta(minutes=70)
    await st.close()


# --- scenario 11: power-loss reboot with an open transaction --------------------------------


async def test_s11_power_loss_reboot_then_stop(joule: Joule, api: httpx.AsyncClient) -> None:
    """TC_032_1: after the reboot, Finishing and Stop(PowerLoss) close T with its energy."""
    sid = "S11-16"
    st = await online(joule, api, sid, "1.6")
    await add_token(api, "S11-TAG")
    t0 = now() - timedelta(minutes=50)
    tx_id = (await start_16(st, "S11-TAG", 2000, t0))["transactionId"]
    st.ws.transport.abort()  # power gone: no close frame
    await st.close()

    st = await connect(joule, sid, "1.6")
    assert (await st.call("BootNotification", boot_payload("1.6")))["status"] == "Accepted"
    tx = await transaction(api, tx_id)
    assert tx["status"] == "active" and tx["stale"] is True  # kept for the stop, flagged
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Finishing"}
    )
    assert (
        await st.call(
            "StopTransaction", stop_16(tx_id, 6500, t0 + timedelta(minutes=40), "PowerLoss")
        )
        == {}
    )
    tx = await transaction(api, tx_id)
    assert tx["status"] == "completed" and tx["stop_reason"] == "PowerLoss"
    assert tx["energy_wh"] == 4500 and tx["stale"] is False
    await st.close()


async def test_s11_late_stop_after_reboot_accepted_once(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    """C16 §4.2.1, evcc#33909: a reboot never auto-closes T; a stop long after is taken once."""
    sid = "S11-LATE"
    st = await online(joule, api, sid, "1.6")
    await add_token(api, "S11-LATE-TAG")
    t0 = now() - timedelta(minutes=30)
    tx_id = (await start_16(st, "S11-LATE-TAG", 100, t0))["transactionId"]
    assert (await st.call("BootNotification", boot_payload("1.6")))["status"] == "Accepted"
    # Ten minutes of other traffic before the stop arrives (its timestamp says so).
    for status in ("Available", "Preparing", "Available"):
        await st.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status}
        )
    await st.call("Heartbeat", {})
    assert (await transaction(api, tx_id))["status"] == "active"
    stop = stop_16(tx_id, 900, t0 + timedelta(minutes=10), "PowerLoss")
    frames = [await st.call_frame("StopTransaction", stop) for _ in range(2)]

    assert [f[0] for f in frames] == [3, 3]
    tx = await transaction(api, tx_id)
    assert tx["status"] == "completed" and tx["energy_wh"] == 800
    assert parse_iso(tx["stopped_at"]) == t0 + timedelta(minutes=10)
    assert len(await transactions(api, sid)) == 1
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
