"""MeterValues (1.6, 2.0.1, 2.1) on a real database: normalisation, attachment, quirks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from tests.domain.helpers import T0, V2X, V16, add_station, handle, rows, samples, station

from joule.bus.envelopes import StationCall
from joule.domain.dispatcher import Dispatcher
from joule.domain.events import TransactionUpdated
from joule.domain.metering import handlers as _metering_handlers  # noqa: F401
from joule.domain.transaction import handlers as _transaction_handlers  # noqa: F401
from joule.domain.transaction.lifecycle import as_utc, energy_wh
from joule.kit.clock import FixedClock
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import MeterValue, Transaction
from joule.storage.repositories.meter_state import load_meter_states, meter_state, moved
from joule.storage.uow import UnitOfWork

v2x = pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def start_16(committer: GroupCommitter, *, connector: int = 1, meter: int = 10000) -> int:
    payload = {
        "connectorId": connector,
        "idTag": "TAG-1",
        "meterStart": meter,
        "timestamp": iso(T0),
    }
    handled = await handle(committer, V16, "StartTransaction", payload)
    return int(handled.response["transactionId"])


async def start_2x(committer: GroupCommitter, version: OcppVersion, *, wh: float = 10000) -> int:
    payload = {
        "eventType": "Started",
        "timestamp": iso(T0),
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-77"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {"timestamp": iso(T0), "sampledValue": [{"value": wh, "context": "Transaction.Begin"}]}
        ],
    }
    await handle(committer, version, "TransactionEvent", payload)
    [tx] = await rows(committer, Transaction, transaction_uid="tx-77")
    return tx.id


async def tx_row(committer: GroupCommitter, pk: int) -> Transaction:
    [tx] = await rows(committer, Transaction, id=pk)
    return tx


def mv16(at: datetime, *samples: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": iso(at), "sampledValue": list(samples)}


async def test_16_samples_are_normalised_with_the_raw_reading_kept(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    tx_id = await start_16(committer)
    at = T0 + timedelta(minutes=5)
    handled = await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                mv16(
                    at,
                    {"value": "10.5", "unit": "kWh", "context": "Sample.Periodic"},
                    {"value": "7.36", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                    {"value": "231", "measurand": "Voltage", "phase": "L1-N"},
                    {"value": "10490", "location": "Inlet"},
                    {"value": "24.5", "measurand": "Temperature", "unit": "Celcius"},
                )
            ],
        },
    )
    assert handled.response == {}
    values = await samples(committer, transaction_pk=tx_id)
    got = [
        (v.measurand, v.phase, v.location, v.context, v.value, v.unit, v.raw_value, v.raw_unit)
        for v in values
    ]
    assert got == [
        (
            "Energy.Active.Import.Register",
            None,
            None,
            "Sample.Periodic",
            10500,
            "Wh",
            "10.5",
            "kWh",
        ),
        ("Power.Active.Import", None, None, None, 7360, "W", "7.36", "kW"),
        ("Current.Import", "L1", None, None, Decimal("16.1"), "A", "16.1", "A"),
        ("Voltage", "L1-N", None, None, 231, "V", "231", None),
        ("Energy.Active.Import.Register", None, "Inlet", None, 10490, "Wh", "10490", None),
        ("Temperature", None, None, None, Decimal("24.5"), "Celsius", "24.5", "Celcius"),
    ]
    assert all(as_utc(v.timestamp) == at for v in values)
    assert all((v.station_id, v.evse_id, v.connector_id) == ("CS-1", 1, 1) for v in values)
    # One row for the reading; its whole-EVSE register and power are columns (ADR 0014).
    [reading] = await rows(committer, MeterValue, transaction_pk=tx_id)
    assert (reading.energy_wh, reading.power_w) == (10500, 7360)
    # Live energy follows the outlet register only (not the inlet one).
    tx = await tx_row(committer, tx_id)
    assert (tx.last_meter_wh, energy_wh(tx)) == (10500, 500)
    assert as_utc(tx.last_meter_at) == at  # type: ignore[arg-type]


async def send_mv16(
    committer: GroupCommitter, tx_id: int, at: datetime, *samples: dict[str, Any]
) -> None:
    """A 1.6 MeterValues of one reading on connector 1 for transaction `tx_id`."""
    await handle(
        committer,
        V16,
        "MeterValues",
        {"connectorId": 1, "transactionId": tx_id, "meterValue": [mv16(at, *samples)]},
    )


async def test_a_reading_without_whole_evse_values_has_no_register_or_power_column(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    tx_id = await start_16(committer)
    await send_mv16(
        committer,
        tx_id,
        T0 + timedelta(minutes=5),
        {"value": "2300", "measurand": "Power.Active.Import", "phase": "L1"},
        {"value": "10490", "location": "Inlet"},
        {"value": "-5"},  # an implausible register
    )
    [reading] = await rows(committer, MeterValue, transaction_pk=tx_id)
    assert (reading.energy_wh, reading.power_w) == (None, None)
    assert len(reading.samples()) == 3


async def test_the_stored_reading_is_the_sampled_value_list_the_station_sent(
    committer: GroupCommitter,
) -> None:
    # ADR 0015: stored as sent (after quirk repair), normalised when read — a numeric 1.6 value
    # (Q13) is stored as the text the quirk room made of it.
    await add_station(committer)
    tx_id = await start_16(committer)
    sent = [
        {"value": "12000", "context": "Sample.Periodic", "format": "Raw", "location": "Outlet"},
        {"value": "11.04", "measurand": "Power.Active.Import", "unit": "kW", "location": "Outlet"},
        {"value": "16.0", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
        {"value": "54", "measurand": "SoC", "location": "EV", "unit": "Percent"},
    ]
    await send_mv16(committer, tx_id, T0 + timedelta(minutes=5), *sent)
    [reading] = await rows(committer, MeterValue, transaction_pk=tx_id)
    assert orjson.loads(reading.sampled_values) == {"ocpp": "1.6", "sampledValue": sent}
    # The outlet's register and power are the whole EVSE's: columns, and live energy moved.
    assert (reading.energy_wh, reading.power_w) == (12000, 11040)
    assert (await tx_row(committer, tx_id)).last_meter_wh == 12000
    assert [(s.measurand, s.value, s.unit) for s in reading.samples()] == [
        ("Energy.Active.Import.Register", 12000, "Wh"),
        ("Power.Active.Import", 11040, "W"),
        ("Current.Import", 16, "A"),
        ("SoC", 54, "Percent"),
    ]


async def test_16_signed_data_is_stored_byte_for_byte(committer: GroupCommitter) -> None:
    await add_station(committer)
    tx_id = await start_16(committer)
    blob = 'OCMF|{"FV":"1.0","RD":[{"RV":10.5,"RU":"kWh"}]}|{"SD":"30440220\u00e9"}'
    await send_mv16(
        committer,
        tx_id,
        T0,
        {"value": blob, "format": "SignedData", "context": "Transaction.Begin"},
    )
    [value] = await samples(committer)
    assert value.signed_data == blob
    assert value.raw_value == blob
    assert value.value is None
    assert (await tx_row(committer, tx_id)).last_meter_wh == 10000  # a blob is no reading


@pytest.mark.parametrize("transaction_id", [0, None])
async def test_16_meter_values_without_a_transaction_id_attach_by_connector_and_time(
    committer: GroupCommitter, transaction_id: int | None
) -> None:
    """Q17: transactionId 0 (a quirk) or absent during a running transaction."""
    await add_station(committer)
    tx_id = await start_16(committer, connector=2)
    await start_16(committer, connector=1)
    before, during = T0 - timedelta(minutes=5), T0 + timedelta(minutes=5)
    payload: dict[str, Any] = {
        "connectorId": 2,
        "meterValue": [mv16(before, {"value": "9990"}), mv16(during, {"value": "11000"})],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    handled = await handle(committer, V16, "MeterValues", payload)
    assert handled.response == {}
    assert len(handled.of_type(TransactionUpdated)) == 1
    early, late = await samples(committer, evse_id=2)
    assert early.transaction_pk is None  # before the transaction started
    assert late.transaction_pk == tx_id
    assert energy_wh(await tx_row(committer, tx_id)) == 1000
    expected = {"transaction_id_zero": 1} if transaction_id == 0 else {}
    assert (await station(committer)).quirks == expected


async def test_16_connector_zero_is_the_main_meter(committer: GroupCommitter) -> None:
    await add_station(committer)
    await start_16(committer)
    await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 0,
            "meterValue": [mv16(T0, {"value": "123456", "context": "Sample.Clock"})],
        },
    )
    [value] = await samples(committer)
    assert (value.evse_id, value.connector_id, value.transaction_pk) == (0, None, None)


async def test_16_unknown_transaction_id_keeps_the_values_unattached(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    await handle(
        committer,
        V16,
        "MeterValues",
        {"connectorId": 1, "transactionId": 4242, "meterValue": [mv16(T0, {"value": "5"})]},
    )
    [value] = await samples(committer)
    assert value.transaction_pk is None


async def test_16_quirks_are_acknowledged_and_counted(committer: GroupCommitter) -> None:
    """Scenario 40: empty sampledValue (Q14), numeric value (Q13), 1970 (Q8), kWh-as-Wh (Q16)."""
    await add_station(committer)
    tx_id = await start_16(committer, meter=12000)
    empty = await handle(
        committer,
        V16,
        "MeterValues",
        {"connectorId": 1, "transactionId": tx_id, "meterValue": [mv16(T0)]},
        check_request=False,
    )
    assert empty.response == {}
    assert await samples(committer) == []

    received = T0 + timedelta(minutes=1)
    handled = await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [mv16(datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), {"value": 12345})],
        },
        received_at=received,
        check_request=False,
    )
    assert handled.response == {}
    [value] = await samples(committer)
    assert (value.raw_value, value.value) == ("12345", 12345)
    assert as_utc(value.timestamp) == received  # ordered by receive time

    kwh = T0 + timedelta(minutes=2)
    await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [mv16(kwh, {"value": "12.4", "unit": "Wh"})],
        },
        received_at=kwh,
    )
    tx = await tx_row(committer, tx_id)
    assert tx.last_meter_wh == 12345  # flagged, not guessed: the reading is kept as a row only
    assert len(await samples(committer)) == 2
    assert (await station(committer)).quirks == {
        "empty_sampled_value": 1,
        "implausible_timestamp": 1,
        "kwh_labelled_wh": 1,
    }


async def test_16_older_reading_does_not_move_live_energy(committer: GroupCommitter) -> None:
    await add_station(committer)
    tx_id = await start_16(committer)
    for minutes, wh in [(20, "12000"), (10, "11000")]:  # offline replay out of order
        await handle(
            committer,
            V16,
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [mv16(T0 + timedelta(minutes=minutes), {"value": wh})],
            },
        )
    tx = await tx_row(committer, tx_id)
    assert (tx.last_meter_wh, energy_wh(tx)) == (12000, 2000)
    assert (await station(committer)).quirks == {}


@v2x
async def test_2x_meter_values_attach_to_the_running_transaction(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    tx_pk = await start_2x(committer, version)
    at = T0 + timedelta(minutes=15)
    handled = await handle(
        committer,
        version,
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {
                    "timestamp": iso(at),
                    "sampledValue": [
                        {"value": 12.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
                        {
                            "value": 11,
                            "measurand": "Power.Active.Import",
                            "unitOfMeasure": {"unit": "kW"},
                            "location": "Outlet",  # the whole EVSE's, as no location is
                        },
                        {"value": 80, "measurand": "SoC", "unitOfMeasure": {"unit": "Percent"}},
                    ],
                }
            ],
        },
    )
    assert handled.response == {}
    [update] = handled.of_type(TransactionUpdated)
    assert update.energy_wh == 2500
    values = await samples(committer, transaction_pk=tx_pk)
    assert [(v.measurand, v.value, v.unit, v.raw_value, v.raw_unit) for v in values[1:]] == [
        ("Energy.Active.Import.Register", 12500, "Wh", "12.5", "Wh*10^3"),
        ("Power.Active.Import", 11000, "W", "11", "kW"),
        ("SoC", 80, "Percent", "80", "Percent"),
    ]
    assert energy_wh(await tx_row(committer, tx_pk)) == 2500
    reading = (await rows(committer, MeterValue, transaction_pk=tx_pk))[-1]
    assert (reading.energy_wh, reading.power_w) == (12500, 11000)


@v2x
async def test_2x_evse_zero_is_the_main_meter(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await start_2x(committer, version)
    await handle(
        committer,
        version,
        "MeterValues",
        {"evseId": 0, "meterValue": [{"timestamp": iso(T0), "sampledValue": [{"value": 1e6}]}]},
    )
    [value] = [v for v in await samples(committer) if v.evse_id == 0]
    assert (value.transaction_pk, value.value, value.raw_value) == (None, 1000000, "1000000.0")


@v2x
async def test_2x_signed_meter_value_and_empty_samples(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    blob = "AP///wABAAAAAAAAAAAAAAEAAAAAAAAA//8="
    handled = await handle(
        committer,
        version,
        "MeterValues",
        {
            "evseId": 3,
            "meterValue": [
                {"timestamp": iso(T0), "sampledValue": []},
                {
                    "timestamp": iso(T0),
                    "sampledValue": [
                        {
                            "value": 4711,
                            "signedMeterValue": {
                                "signedMeterData": blob,
                                "signingMethod": "ECDSA-secp256r1-SHA256",
                                "encodingMethod": "EDL",
                                "publicKey": "BASE64KEY==",
                            },
                        }
                    ],
                },
            ],
        },
        check_request=False,
    )
    assert handled.response == {}
    [value] = await samples(committer)
    assert (value.signed_data, value.value, value.evse_id) == (blob, 4711, 3)
    # The whole signed value is kept as sent: method, encoding and key verify the blob later.
    [row] = await rows(committer, MeterValue)
    signed = orjson.loads(row.sampled_values)["sampledValue"][0]["signedMeterValue"]
    assert (signed["signingMethod"], signed["publicKey"]) == (
        "ECDSA-secp256r1-SHA256",
        "BASE64KEY==",
    )
    assert (await station(committer)).quirks == {"empty_sampled_value": 1}


@v2x
async def test_2x_all_samples_dropped_by_the_protocol_room_is_acknowledged(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Q14 after ocpp.quirks removed every empty element: nothing to store, still {}."""
    await add_station(committer)
    handled = await handle(
        committer, version, "MeterValues", {"evseId": 1, "meterValue": []}, check_request=False
    )
    assert handled.response == {}
    assert await samples(committer) == []


@v2x
async def test_2x_local_time_uses_the_station_zone(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(
        committer,
        version,
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [{"timestamp": "2026-11-28T07:00:00", "sampledValue": [{"value": 1}]}],
        },
        station_timezone="America/New_York",
    )
    [value] = await samples(committer)
    assert as_utc(value.timestamp) == T0


async def test_an_unknown_station_zone_falls_back_to_utc(committer: GroupCommitter) -> None:
    await add_station(committer)
    await handle(
        committer,
        V16,
        "MeterValues",
        {"connectorId": 1, "meterValue": [mv16(T0, {"value": "1"})]},
        station_timezone="Mars/Olympus_Mons",
    )
    [value] = await samples(committer)
    assert as_utc(value.timestamp) == T0
    assert (await station(committer)).quirks == {}


async def test_16_preloaded_transaction_attaches_only_to_its_own_station(
    committer: GroupCommitter,
) -> None:
    # Through the dispatcher, as from a socket: the batch preloads the named transaction and the
    # handler takes it from the unit of work without SQL (uow.loaded), with the same ownership
    # check as the lookup: another station naming our id gets its values stored unattached.
    await add_station(committer)
    await add_station(committer, "CS-2")
    pk = await start_16(committer)
    dispatch = Dispatcher(committer, FixedClock(T0))

    async def meter(station_id: str, wh: str) -> None:
        payload = {"connectorId": 1, "transactionId": pk, "meterValue": [mv16(T0, {"value": wh})]}
        call = StationCall(station_id, V16, f"mv-{station_id}", "MeterValues", payload, T0)
        assert await dispatch(call) == {}

    await asyncio.gather(meter("CS-1", "10500"), meter("CS-2", "99999"))  # one batch
    values = {v.station_id: v.transaction_pk for v in await samples(committer)}
    assert values == {"CS-1": pk, "CS-2": None}
    assert (await tx_row(committer, pk)).last_meter_wh == Decimal("10500")


@pytest.mark.parametrize("orm_first", [True, False])
async def test_16_lean_meter_update_never_overwrites_a_later_register_in_the_same_batch(
    committer: GroupCommitter, orm_first: bool
) -> None:
    """The lean MeterValues path writes its register at flush; an ORM unit of the same batch
    that moved the register further (a final reading, say) keeps its value, in either order."""
    await add_station(committer)
    pk = await start_16(committer)
    later = T0 + timedelta(minutes=10)

    async def batch(uow: UnitOfWork) -> None:
        async def orm_unit() -> None:
            tx = await uow.session.get(Transaction, pk)
            assert tx is not None
            tx.last_meter_wh, tx.last_meter_at = Decimal(19000), later

        if orm_first:
            await orm_unit()
        # the lean state was read at batch start (as preload does) and moves to 15 000 Wh
        await load_meter_states(uow, [pk])
        state = await meter_state(uow, "CS-1", pk)
        assert state is not None
        state.last_meter_wh, state.last_meter_at = Decimal(15000), T0 + timedelta(minutes=5)
        state.updated_at = T0 + timedelta(minutes=5)
        moved(uow, state)
        if not orm_first:
            await orm_unit()

    await committer.run(batch)
    tx = await tx_row(committer, pk)
    assert tx.last_meter_wh == Decimal(19000) and as_utc(tx.last_meter_at) == later


async def test_16_lean_meter_state_is_only_the_stations_own(committer: GroupCommitter) -> None:
    """A transaction id of another station's transaction attaches nothing (as the ORM path)."""
    await add_station(committer)
    pk = await start_16(committer)

    async def other(uow: UnitOfWork) -> object:
        return await meter_state(uow, "CS-OTHER", pk)

    async def own(uow: UnitOfWork) -> object:
        return await meter_state(uow, "CS-1", pk)

    assert await committer.run(other) is None
    state = await committer.run(own)
    assert state is not None and getattr(state, "meter_start_wh", None) == Decimal(10000)
