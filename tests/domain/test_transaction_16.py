"""1.6 StartTransaction / StopTransaction on a real database (scenarios 1, 2, 5, 10, 11, 12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.domain.helpers import T0, V16, add_station, handle, rows, samples, station

from joule.domain.events import TransactionEnded, TransactionStarted, TransactionUpdated
from joule.domain.metering import handlers as _metering_handlers  # noqa: F401
from joule.domain.transaction import handlers as _transaction_handlers  # noqa: F401
from joule.domain.transaction.lifecycle import as_utc, energy_wh
from joule.storage.committer import GroupCommitter
from joule.storage.models import IdToken, ParkedMessage, Transaction
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def start(
    *, connector: int = 1, tag: str = "TAG-1", meter: int = 1000, at: datetime = T0
) -> dict[str, Any]:
    return {"connectorId": connector, "idTag": tag, "meterStart": meter, "timestamp": iso(at)}


def stop(tx_id: int, *, meter: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"transactionId": tx_id, "meterStop": meter, "timestamp": iso(at), **extra}


def register(at: datetime, wh: int) -> dict[str, Any]:
    return {
        "timestamp": iso(at),
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        ],
    }


async def add_token(committer: GroupCommitter, uid: str, status: str = "Accepted") -> None:
    async def work(uow: UnitOfWork) -> IdToken:
        return await tokens.create_token(
            uow.session,
            uid=uid,
            type="ISO14443",
            status=status,
            expiry=None,
            group_id=None,
            max_concurrent=1,
            at=T0,
        )

    await committer.run(work)


async def one_tx(committer: GroupCommitter, pk: int) -> Transaction:
    [tx] = await rows(committer, Transaction, id=pk)
    return tx


async def test_full_session_with_energy(committer: GroupCommitter) -> None:
    await add_station(committer)
    await add_token(committer, "TAG-1")
    started = await handle(committer, V16, "StartTransaction", start(meter=12000))
    tx_id = started.response["transactionId"]
    assert started.response == {"transactionId": tx_id, "idTagInfo": {"status": "Accepted"}}
    [event] = started.of_type(TransactionStarted)
    assert (event.transaction_pk, event.station_id, event.evse_id, event.id_token) == (
        tx_id,
        "CS-1",
        1,
        "TAG-1",
    )
    tx = await one_tx(committer, tx_id)
    assert tx.transaction_uid == str(tx_id)
    assert (tx.status, tx.evse_id, tx.connector_id, tx.auth_status) == ("active", 1, 1, "Accepted")
    assert as_utc(tx.started_at) == T0  # type: ignore[arg-type]
    assert energy_wh(tx) == 0  # live energy from the start reading

    for minutes, wh in [(15, 14500), (30, 17250)]:
        at = T0 + timedelta(minutes=minutes)
        handled = await handle(
            committer,
            V16,
            "MeterValues",
            {"connectorId": 1, "transactionId": tx_id, "meterValue": [register(at, wh)]},
            received_at=at,
        )
        assert handled.response == {}
        [updated] = handled.of_type(TransactionUpdated)
        assert updated.energy_wh == wh - 12000
    tx = await one_tx(committer, tx_id)
    assert energy_wh(tx) == Decimal(5250)  # live: latest register − start

    end = T0 + timedelta(minutes=45)
    stopped = await handle(
        committer,
        V16,
        "StopTransaction",
        stop(
            tx_id,
            meter=19000,
            at=end,
            idTag="TAG-1",
            reason="EVDisconnected",
            transactionData=[register(T0, 12000), register(end, 19000)],
        ),
        received_at=end,
    )
    assert stopped.response == {"idTagInfo": {"status": "Accepted"}}
    [ended] = stopped.of_type(TransactionEnded)
    assert (ended.energy_wh, ended.stop_reason) == (Decimal(7000), "EVDisconnected")
    tx = await one_tx(committer, tx_id)
    assert (tx.status, tx.stop_reason, tx.stale) == ("completed", "EVDisconnected", False)
    assert as_utc(tx.stopped_at) == end  # type: ignore[arg-type]
    assert tx.meter_stop_wh == 19000
    assert energy_wh(tx) == Decimal(7000)
    values = await samples(committer, transaction_pk=tx_id)
    assert sorted(v.value for v in values) == [12000, 14500, 17250, 19000]


async def test_retried_start_returns_the_same_transaction(committer: GroupCommitter) -> None:
    """Scenario 2: the answer was lost; the retry (new messageId) creates nothing."""
    await add_station(committer)
    await add_token(committer, "TAG-1")
    first = await handle(committer, V16, "StartTransaction", start(), message_id="a")
    again = await handle(
        committer,
        V16,
        "StartTransaction",
        start(),
        message_id="b",
        received_at=T0 + timedelta(seconds=40),
    )
    assert again.response == first.response
    assert again.events == []
    assert len(await rows(committer, Transaction)) == 1


async def test_start_on_another_connector_or_time_is_a_new_transaction(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    a = await handle(committer, V16, "StartTransaction", start(connector=1))
    b = await handle(committer, V16, "StartTransaction", start(connector=2))
    c = await handle(committer, V16, "StartTransaction", start(connector=1, meter=1500))
    ids = {a.response["transactionId"], b.response["transactionId"], c.response["transactionId"]}
    assert len(ids) == 3


async def test_duplicate_stop_stores_nothing_twice(committer: GroupCommitter) -> None:
    """Scenario 5 / Q20: same stop twice with 20 meter values: one stop, 20 rows."""
    await add_station(committer)
    await add_token(committer, "TAG-1")
    tx_id = (await handle(committer, V16, "StartTransaction", start())).response["transactionId"]
    data = [register(T0 + timedelta(minutes=3 * n), 1000 + 250 * n) for n in range(20)]
    payload = stop(tx_id, meter=5750, at=T0 + timedelta(hours=1), transactionData=data)
    first = await handle(committer, V16, "StopTransaction", payload, message_id="s1")
    second = await handle(committer, V16, "StopTransaction", payload, message_id="s2")
    assert first.response == second.response == {}
    assert len(first.of_type(TransactionEnded)) == 1
    assert second.events == []
    assert len(await samples(committer, transaction_pk=tx_id)) == 20
    tx = await one_tx(committer, tx_id)
    assert (tx.status, tx.stop_reason, energy_wh(tx)) == ("completed", "Local", Decimal(4750))


async def test_offline_transactions_valid_and_invalid_tag(committer: GroupCommitter) -> None:
    """Scenario 10 (TC_039, TC_037_3): device timestamps kept; both get a transactionId."""
    await add_station(committer)
    await add_token(committer, "TAG-OK")
    started_at, stopped_at = T0 - timedelta(hours=4), T0 - timedelta(hours=3)
    ok = await handle(committer, V16, "StartTransaction", start(tag="TAG-OK", at=started_at))
    bad = await handle(
        committer, V16, "StartTransaction", start(connector=2, tag="NOPE", at=started_at)
    )
    assert ok.response["idTagInfo"] == {"status": "Accepted"}
    assert bad.response["idTagInfo"] == {"status": "Invalid"}
    await handle(
        committer,
        V16,
        "StopTransaction",
        stop(ok.response["transactionId"], meter=4000, at=stopped_at, reason="Local"),
    )
    bad_stop = await handle(
        committer,
        V16,
        "StopTransaction",
        stop(
            bad.response["transactionId"],
            meter=1200,
            at=stopped_at,
            idTag="NOPE",
            reason="DeAuthorized",
        ),
    )
    assert bad_stop.response == {"idTagInfo": {"status": "Invalid"}}
    first, second = await rows(committer, Transaction)
    assert as_utc(first.started_at) == started_at  # type: ignore[arg-type]
    assert as_utc(first.stopped_at) == stopped_at  # type: ignore[arg-type]
    assert (first.auth_status, energy_wh(first)) == ("Accepted", Decimal(3000))
    assert (second.auth_status, second.stop_reason, second.id_token) == (
        "Invalid",
        "DeAuthorized",
        "NOPE",
    )
    assert energy_wh(second) == Decimal(200)


async def test_reboot_marks_the_old_transaction_stale_and_a_late_stop_closes_it(
    committer: GroupCommitter,
) -> None:
    """Scenario 11 / Q23: nothing is deleted or auto-closed; PowerLoss stop keeps the energy."""
    await add_station(committer)
    old = (await handle(committer, V16, "StartTransaction", start(meter=500))).response
    later = T0 + timedelta(minutes=50)
    new = (await handle(committer, V16, "StartTransaction", start(meter=9000, at=later))).response
    stale = await one_tx(committer, old["transactionId"])
    assert (stale.status, stale.stale) == ("active", True)
    closed = await handle(
        committer,
        V16,
        "StopTransaction",
        stop(old["transactionId"], meter=8900, at=later, reason="PowerLoss"),
        received_at=later + timedelta(minutes=10),
    )
    assert closed.response == {}
    stale = await one_tx(committer, old["transactionId"])
    assert (stale.status, stale.stale, stale.stop_reason) == ("completed", False, "PowerLoss")
    assert energy_wh(stale) == Decimal(8400)
    current = await one_tx(committer, new["transactionId"])
    assert (current.status, current.stale) == ("active", False)


async def test_stop_for_an_unknown_transaction_is_parked(committer: GroupCommitter) -> None:
    """Scenario 12 / Q18: -1 or never issued → normal answer, parked once for reconciliation."""
    await add_station(committer)
    await add_station(committer, "CS-2")
    other = (await handle(committer, V16, "StartTransaction", start(), station_id="CS-2")).response[
        "transactionId"
    ]
    minus_one = stop(-1, meter=3000, at=T0)
    assert (await handle(committer, V16, "StopTransaction", minus_one)).response == {}
    again = await handle(committer, V16, "StopTransaction", minus_one, message_id="retry")
    assert again.response == {}
    with_tag = await handle(
        committer, V16, "StopTransaction", stop(999, meter=1, at=T0, idTag="TAG-1")
    )
    assert with_tag.response == {"idTagInfo": {"status": "Invalid"}}
    # Another station's transaction id is not this station's to stop.
    foreign = await handle(committer, V16, "StopTransaction", stop(other, meter=1, at=T0))
    assert foreign.response == {}
    parked = await rows(committer, ParkedMessage, station_id="CS-1")
    assert [(p.action, p.reason, p.resolved) for p in parked] == [
        ("StopTransaction", "unknown transactionId -1", False),
        ("StopTransaction", "unknown transactionId 999", False),
        ("StopTransaction", f"unknown transactionId {other}", False),
    ]
    assert parked[0].payload == minus_one
    tx = await one_tx(committer, other)
    assert tx.status == "active"


async def test_meter_reset_keeps_what_is_known(committer: GroupCommitter) -> None:
    await add_station(committer)
    tx_id = (await handle(committer, V16, "StartTransaction", start(meter=50000))).response[
        "transactionId"
    ]
    at = T0 + timedelta(minutes=20)
    await handle(
        committer,
        V16,
        "MeterValues",
        {"connectorId": 1, "transactionId": tx_id, "meterValue": [register(at, 56000)]},
    )
    ended = await handle(
        committer,
        V16,
        "StopTransaction",
        stop(tx_id, meter=300, at=at + timedelta(minutes=5)),  # meter replaced / reset
    )
    [event] = ended.of_type(TransactionEnded)
    assert event.energy_wh == Decimal(6000)
    assert energy_wh(await one_tx(committer, tx_id)) == Decimal(6000)
    assert (await station(committer)).quirks == {"meter_register_decreased": 1}


async def test_implausible_start_time_uses_receive_time_and_retry_still_matches(
    committer: GroupCommitter,
) -> None:
    """Q8: 1970 before clock sync → ordered by receive time, quirk counted."""
    await add_station(committer)
    payload = start(at=datetime(1970, 1, 1, tzinfo=T0.tzinfo))
    first = await handle(committer, V16, "StartTransaction", payload)
    again = await handle(
        committer, V16, "StartTransaction", payload, received_at=T0 + timedelta(seconds=30)
    )
    assert again.response["transactionId"] == first.response["transactionId"]
    [tx] = await rows(committer, Transaction)
    assert as_utc(tx.started_at) == T0  # type: ignore[arg-type]
    assert (await station(committer)).quirks == {"implausible_timestamp": 2}


async def test_local_time_without_offset_uses_the_station_zone(
    committer: GroupCommitter,
) -> None:
    """Q7: '2026-11-28T13:00:00' from a station in Europe/Berlin is 12:00 UTC."""
    await add_station(committer)
    payload = start()
    payload["timestamp"] = "2026-11-28T13:00:00"
    handled = await handle(
        committer, V16, "StartTransaction", payload, station_timezone="Europe/Berlin"
    )
    tx = await one_tx(committer, handled.response["transactionId"])
    assert as_utc(tx.started_at) == T0  # type: ignore[arg-type]


async def test_out_of_range_values_are_answered_not_refused(committer: GroupCommitter) -> None:
    """C16 §4.8/§4.10: a start still gets a transactionId, a stop is still answered."""
    await add_station(committer)
    started = await handle(committer, V16, "StartTransaction", start(meter=-5))
    tx_id = started.response["transactionId"]
    tx = await one_tx(committer, tx_id)
    assert (tx.meter_start_wh, tx.status) == (None, "active")
    retry = await handle(committer, V16, "StartTransaction", start(meter=-5))
    assert retry.response["transactionId"] == tx_id
    huge = await handle(committer, V16, "StopTransaction", stop(2**70, meter=1, at=T0))
    assert huge.response == {}
    assert len(await rows(committer, ParkedMessage)) == 1
    await handle(committer, V16, "StopTransaction", stop(tx_id, meter=10**17, at=T0))
    tx = await one_tx(committer, tx_id)
    assert (tx.status, tx.meter_stop_wh, energy_wh(tx)) == ("completed", None, None)
    assert (await station(committer)).quirks == {"implausible_meter_value": 3}
