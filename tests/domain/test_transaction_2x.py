"""2.0.1 / 2.1 TransactionEvent on a real database (scenarios 6, 7, 8, 9; E05; E §1.3.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.domain.helpers import T0, V2X, add_station, handle, rows, samples, station

from joule.domain.events import TransactionEnded, TransactionStarted, TransactionUpdated
from joule.domain.transaction import handlers as _transaction_handlers  # noqa: F401
from joule.domain.transaction.lifecycle import as_utc, energy_wh
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import IdToken, Transaction, TransactionEvent
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork

pytestmark = pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def energy(at: datetime, wh: float, context: str = "Sample.Periodic") -> dict[str, Any]:
    return {
        "timestamp": iso(at),
        "sampledValue": [
            {
                "value": wh,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def event(
    kind: str,
    seq_no: int,
    at: datetime,
    *,
    tx_id: str = "TX-0001",
    trigger: str | None = None,
    meter: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": kind,
        "timestamp": iso(at),
        "triggerReason": trigger
        or {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}[kind],
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx_id, **extra.pop("info", {})},
        **extra,
    }
    if meter:
        payload["meterValue"] = meter
    return payload


def started(at: datetime = T0, *, tx_id: str = "TX-0001", wh: float = 1000, **extra: Any) -> Any:
    return event(
        "Started",
        extra.pop("seq_no", 0),
        at,
        tx_id=tx_id,
        meter=[energy(at, wh, "Transaction.Begin")],
        idToken={"idToken": "TAG-1", "type": "ISO14443"},
        evse={"id": 1, "connectorId": 1},
        info={"chargingState": "Charging"},
        **extra,
    )


async def add_token(committer: GroupCommitter, uid: str = "TAG-1") -> None:
    async def work(uow: UnitOfWork) -> IdToken:
        return await tokens.create_token(
            uow.session,
            uid=uid,
            type="ISO14443",
            status="Accepted",
            expiry=None,
            group_id=None,
            max_concurrent=1,
            at=T0,
        )

    await committer.run(work)


async def the_tx(committer: GroupCommitter, uid: str = "TX-0001") -> Transaction:
    [tx] = await rows(committer, Transaction, transaction_uid=uid)
    return tx


async def test_full_session(committer: GroupCommitter, version: OcppVersion) -> None:
    await add_station(committer)
    await add_token(committer)
    first = await handle(committer, version, "TransactionEvent", started(wh=2000))
    assert first.response == {"idTokenInfo": {"status": "Accepted"}}
    [begun] = first.of_type(TransactionStarted)
    tx = await the_tx(committer)
    assert (begun.transaction_pk, begun.evse_id, begun.id_token) == (tx.id, 1, "TAG-1")
    assert (tx.status, tx.evse_id, tx.connector_id, tx.charging_state) == (
        "active",
        1,
        1,
        "Charging",
    )
    assert (tx.id_token, tx.id_token_type, tx.auth_status) == ("TAG-1", "ISO14443", "Accepted")
    assert tx.meter_start_wh == 2000
    assert as_utc(tx.started_at) == T0  # type: ignore[arg-type]

    mid = T0 + timedelta(minutes=30)
    update = await handle(
        committer,
        version,
        "TransactionEvent",
        event("Updated", 1, mid, meter=[energy(mid, 6500.5)]),
    )
    assert update.response == {}
    [progress] = update.of_type(TransactionUpdated)
    assert progress.energy_wh == Decimal("4500.5")
    assert energy_wh(await the_tx(committer)) == Decimal("4500.5")

    end = T0 + timedelta(hours=1)
    ended = await handle(
        committer,
        version,
        "TransactionEvent",
        event(
            "Ended",
            2,
            end,
            meter=[
                {
                    "timestamp": iso(end),
                    "sampledValue": [
                        {
                            "value": 9.75,
                            "context": "Transaction.End",
                            "unitOfMeasure": {"unit": "kWh"},
                        }
                    ],
                }
            ],
            info={"stoppedReason": "EVDisconnected", "chargingState": "EVConnected"},
        ),
    )
    assert ended.response == {}
    [done] = ended.of_type(TransactionEnded)
    assert (done.energy_wh, done.stop_reason) == (Decimal(7750), "EVDisconnected")
    tx = await the_tx(committer)
    assert (tx.status, tx.stop_reason, tx.meter_stop_wh) == ("completed", "EVDisconnected", 9750)
    assert as_utc(tx.stopped_at) == end  # type: ignore[arg-type]
    assert tx.seq_nos == {"seen": [0, 1, 2], "started": 0, "ended": 2}
    assert tx.missing_seq_nos is None
    values = await samples(committer, transaction_pk=tx.id)
    assert [(v.value, v.unit, v.raw_value, v.raw_unit) for v in values] == [
        (2000, "Wh", "2000", "Wh"),
        (Decimal("6500.5"), "Wh", "6500.5", "Wh"),
        (9750, "Wh", "9.75", "kWh"),
    ]
    assert len(await rows(committer, TransactionEvent, transaction_pk=tx.id)) == 3


async def test_retried_event_with_new_message_id_is_stored_once(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 6: same payload, new messageId → answered, one event, no second side effect."""
    await add_station(committer)
    await handle(committer, version, "TransactionEvent", started())
    at = T0 + timedelta(minutes=5)
    payload = event("Updated", 5, at, meter=[energy(at, 1800)])
    first = await handle(committer, version, "TransactionEvent", payload, message_id="m-1")
    again = await handle(committer, version, "TransactionEvent", payload, message_id="m-2")
    assert first.response == again.response == {}
    assert len(first.of_type(TransactionUpdated)) == 1
    assert again.events == []
    tx = await the_tx(committer)
    assert len(await rows(committer, TransactionEvent, transaction_pk=tx.id, seq_no=5)) == 1
    assert len(await samples(committer, transaction_pk=tx.id)) == 2


async def test_retried_started_keeps_the_token_verdict(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await add_token(committer)
    first = await handle(committer, version, "TransactionEvent", started(), message_id="a")
    again = await handle(committer, version, "TransactionEvent", started(), message_id="b")
    assert first.response == again.response == {"idTokenInfo": {"status": "Accepted"}}
    assert again.events == []


async def test_offline_replay_keeps_payload_times(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 7: queued for 2 h, offline=true, unknown token: data kept, verdict Invalid."""
    await add_station(committer)
    t0 = T0 - timedelta(hours=2)
    replay = [
        started(t0, offline=True),
        event("Updated", 1, t0 + timedelta(minutes=20), offline=True),
        event("Updated", 2, t0 + timedelta(minutes=40), offline=True),
        event(
            "Ended",
            3,
            t0 + timedelta(hours=1),
            offline=True,
            meter=[energy(t0 + timedelta(hours=1), 11000, "Transaction.End")],
        ),
    ]
    responses = []
    for n, payload in enumerate(replay):
        handled = await handle(
            committer, version, "TransactionEvent", payload, received_at=T0 + timedelta(seconds=n)
        )
        responses.append(handled.response)
    assert responses[0] == {"idTokenInfo": {"status": "Invalid"}}  # E05.FR.02: data kept
    assert responses[1:] == [{}, {}, {}]
    tx = await the_tx(committer)
    assert as_utc(tx.started_at) == t0  # type: ignore[arg-type]
    assert as_utc(tx.stopped_at) == t0 + timedelta(hours=1)  # type: ignore[arg-type]
    assert (tx.offline, tx.status, tx.auth_status) == (True, "completed", "Invalid")
    assert tx.missing_seq_nos is None
    assert energy_wh(tx) == Decimal(10000)
    stored = await rows(committer, TransactionEvent, transaction_pk=tx.id)
    assert all(e.offline for e in stored)


async def test_out_of_order_and_missing_seq_nos(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 8: 0 (Started), 3 (Ended), 2, never 1 → incomplete 'missing 1' until 1 comes."""
    await add_station(committer)
    await handle(committer, version, "TransactionEvent", started())
    await handle(
        committer, version, "TransactionEvent", event("Ended", 3, T0 + timedelta(minutes=30))
    )
    tx = await the_tx(committer)
    assert (tx.status, tx.missing_seq_nos) == ("completed", "1,2")
    late = await handle(
        committer, version, "TransactionEvent", event("Updated", 2, T0 + timedelta(minutes=20))
    )
    assert late.response == {}
    assert late.of_type(TransactionUpdated) == []  # completed: no live update
    assert (await the_tx(committer)).missing_seq_nos == "1"
    await handle(
        committer, version, "TransactionEvent", event("Updated", 1, T0 + timedelta(minutes=10))
    )
    tx = await the_tx(committer)
    assert tx.missing_seq_nos is None
    assert tx.seq_nos == {"seen": [0, 1, 2, 3], "started": 0, "ended": 3}


async def test_updated_and_ended_before_started(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 8: the first event to arrive creates the transaction; Started fills it in."""
    await add_station(committer)
    t1, t2 = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    upd = await handle(
        committer,
        version,
        "TransactionEvent",
        event("Updated", 1, t1, meter=[energy(t1, 1500)], evse={"id": 2}),
    )
    assert upd.response == {}
    tx = await the_tx(committer)
    assert (tx.status, tx.evse_id, tx.meter_start_wh) == ("active", 2, None)
    assert as_utc(tx.started_at) == t1  # type: ignore[arg-type]  # provisional
    ended = await handle(
        committer,
        version,
        "TransactionEvent",
        event("Ended", 2, t2, meter=[energy(t2, 4000, "Transaction.End")]),
    )
    [done] = ended.of_type(TransactionEnded)
    assert done.energy_wh is None  # no start reading yet
    begun = await handle(committer, version, "TransactionEvent", started(wh=1000))
    assert len(begun.of_type(TransactionStarted)) == 1
    tx = await the_tx(committer)
    assert as_utc(tx.started_at) == T0  # type: ignore[arg-type]
    assert (tx.status, tx.meter_start_wh, tx.missing_seq_nos) == ("completed", 1000, None)
    assert energy_wh(tx) == Decimal(3000)


async def test_two_transactions_both_starting_at_seq_no_zero(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 9: the dedupe key includes the transaction; continuous seqNos work too."""
    await add_station(committer)
    for tx_id, base in (("A", T0), ("B", T0 + timedelta(hours=2))):
        await handle(committer, version, "TransactionEvent", started(base, tx_id=tx_id))
        await handle(
            committer,
            version,
            "TransactionEvent",
            event("Ended", 1, base + timedelta(minutes=30), tx_id=tx_id),
        )
    a, b = await the_tx(committer, "A"), await the_tx(committer, "B")
    assert a.id != b.id
    assert a.status == b.status == "completed"
    assert len(await rows(committer, TransactionEvent)) == 4

    await add_station(committer, "CS-2")
    for tx_id, seq in (("C", 100), ("D", 102)):
        base = T0 + timedelta(hours=seq - 99)
        await handle(
            committer,
            version,
            "TransactionEvent",
            started(base, tx_id=tx_id, seq_no=seq),
            station_id="CS-2",
        )
        await handle(
            committer,
            version,
            "TransactionEvent",
            event("Ended", seq + 1, base + timedelta(minutes=5), tx_id=tx_id),
            station_id="CS-2",
        )
    c, d = await the_tx(committer, "C"), await the_tx(committer, "D")
    assert c.seq_nos == {"seen": [100, 101], "started": 100, "ended": 101}
    assert d.seq_nos == {"seen": [102, 103], "started": 102, "ended": 103}
    assert c.missing_seq_nos is None and d.missing_seq_nos is None


async def test_same_transaction_id_on_two_stations(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await add_station(committer, "CS-2")
    await handle(committer, version, "TransactionEvent", started())
    await handle(committer, version, "TransactionEvent", started(), station_id="CS-2")
    assert len(await rows(committer, Transaction, transaction_uid="TX-0001")) == 2


async def test_stop_token_is_verified_but_the_start_token_stays(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """E05.FR.01 on an Ended carrying the StopAuthorized token."""
    await add_station(committer)
    await add_token(committer)
    await handle(committer, version, "TransactionEvent", started())
    ended = await handle(
        committer,
        version,
        "TransactionEvent",
        event(
            "Ended",
            1,
            T0 + timedelta(minutes=9),
            trigger="StopAuthorized",
            idToken={"idToken": "SOMEONE-ELSE", "type": "ISO14443"},
            info={"stoppedReason": "Local"},
        ),
    )
    assert ended.response == {"idTokenInfo": {"status": "Invalid"}}
    tx = await the_tx(committer)
    assert (tx.id_token, tx.auth_status, tx.status) == ("TAG-1", "Accepted", "completed")
    # Ended without meter values: the last known register is the stop reading.
    assert (tx.meter_stop_wh, energy_wh(tx)) == (1000, 0)


async def test_signed_meter_value_is_kept_byte_for_byte(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    blob = (
        'OCMF|{"FV":"1.0","GI":"ABL SBC-301","RD":[{"TM":"2026-11-28T12:00:00,000+0000 S",'
        '"RV":1.0}]}|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045022100ab\\u00e9 ü"}'
    )
    payload = started()
    payload["meterValue"][0]["sampledValue"][0]["signedMeterValue"] = {
        "signedMeterData": blob,
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
    }
    await handle(committer, version, "TransactionEvent", payload)
    [value] = await samples(committer)
    assert value.signed_data == blob
    assert value.value == 1000


async def test_empty_sampled_value_is_acknowledged(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Q14: an empty sampledValue (schema says minItems 1) is acked, nothing stored, counted."""
    await add_station(committer)
    payload = started()
    payload["meterValue"] = [{"timestamp": iso(T0), "sampledValue": []}]
    handled = await handle(committer, version, "TransactionEvent", payload, check_request=False)
    assert handled.response == {"idTokenInfo": {"status": "Invalid"}}
    assert await samples(committer) == []
    tx = await the_tx(committer)
    assert tx.meter_start_wh is None
    assert (await station(committer)).quirks == {"empty_sampled_value": 1}


async def test_a_huge_seq_no_jump_is_cheap_and_flagged(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(committer, version, "TransactionEvent", started())
    handled = await handle(
        committer, version, "TransactionEvent", event("Ended", 10**9, T0 + timedelta(minutes=1))
    )
    assert handled.response == {}
    tx = await the_tx(committer)
    assert tx.missing_seq_nos == f"1-{10**9 - 1}"
    assert tx.status == "completed"


async def test_absurd_values_never_break_a_transaction_event(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """A valid message is never lost to a value the columns cannot hold (C16 §3.7.1, E13)."""
    await add_station(committer)
    await handle(committer, version, "TransactionEvent", started(wh=1000))
    at = T0 + timedelta(minutes=1)
    handled = await handle(
        committer,
        version,
        "TransactionEvent",
        event(
            "Updated",
            1,
            at,
            meter=[
                {
                    "timestamp": iso(at),
                    "sampledValue": [
                        {"value": 1e30},
                        {
                            "value": 3,
                            "measurand": "Power.Active.Import",
                            "unitOfMeasure": {"unit": "MegaWattPerFortnight"},
                        },
                    ],
                }
            ],
        ),
    )
    assert handled.response == {}
    tx = await the_tx(committer)
    _, huge, odd = await samples(committer, transaction_pk=tx.id)
    assert (huge.value, huge.raw_value) == (None, "1e+30")
    assert (odd.unit, odd.raw_unit, odd.value) == ("MegaWattPerFortn", "MegaWattPerFortnight", 3)
    assert (tx.last_meter_wh, energy_wh(tx)) == (1000, 0)
    assert (await station(committer)).quirks == {"implausible_meter_value": 1}


async def test_a_new_transaction_on_the_evse_marks_a_lost_one_stale(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Q23: the old transaction is kept and can still be ended late."""
    await add_station(committer)
    await add_token(committer)
    await handle(committer, version, "TransactionEvent", started(tx_id="OLD"))
    later = T0 + timedelta(hours=1)
    new = await handle(committer, version, "TransactionEvent", started(later, tx_id="NEW"))
    assert new.response == {"idTokenInfo": {"status": "Accepted"}}  # the lost one does not count
    old = await the_tx(committer, "OLD")
    assert (old.status, old.stale) == ("active", True)
    await handle(
        committer,
        version,
        "TransactionEvent",
        event("Ended", 1, later, tx_id="OLD", info={"stoppedReason": "PowerLoss"}),
    )
    old = await the_tx(committer, "OLD")
    assert (old.status, old.stale, old.stop_reason) == ("completed", False, "PowerLoss")
    assert (await the_tx(committer, "NEW")).stale is False
