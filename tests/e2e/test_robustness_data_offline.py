"""Robustness scenarios 7–11 (ocpp-robustness.md §6): offline replays, seqNo gaps and reboots.

Queued messages keep their own times, sequence gaps are flagged until filled, and a reboot never
closes (or refuses the late stop of) an open transaction.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from joule.runtime import Joule
from tests.e2e.test_charging_session import add_station, add_token
from tests.e2e.test_robustness_data import (
    boot_payload,
    connect,
    joule_id,
    now,
    online,
    parse_iso,
    start_16,
    stop_16,
    stored_events,
    transaction,
    transactions,
    tx_event,
)

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
