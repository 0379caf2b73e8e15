"""UnitOfWork.bulk_insert: compiled once, rows sent as processed tuples, read back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from joule.storage.committer import GroupCommitter
from joule.storage.models import MessageLogEntry, MeterValue, Operator
from joule.storage.uow import UnitOfWork


def _row(i: int, at: datetime, **extra: object) -> dict[str, object]:
    return {
        "station_id": "CP-1",
        "evse_id": 1,
        "connector_id": 1,
        "transaction_pk": None,
        "timestamp": at,
        "energy_wh": Decimal("1234.5") + i,
        "power_w": None,
        "sampled_values": f'[["Energy.Active.Import.Register",null,null,null,"{1234.5 + i}"]]',
        **extra,
    }


async def test_rows_read_back_as_they_were_queued(committer: GroupCommitter) -> None:
    at = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    rows = [_row(i, at) for i in range(3)]  # one shared timestamp object, processed once
    rows.append(_row(3, at + timedelta(seconds=1), power_w=Decimal(7), energy_wh=None))
    logged = {
        "station_id": "CP-1",
        "direction": "in",
        "message_type": 2,
        "message_id": "m1",
        "action": "Heartbeat",
        "frame": '[2,"m1","Heartbeat",{}]',
        "at": at,
    }

    async def write(uow: UnitOfWork) -> None:
        uow.bulk_insert(MeterValue, rows)
        uow.bulk_insert(MessageLogEntry, [logged])

    await committer.run(write)

    async def read(uow: UnitOfWork) -> tuple[list[MeterValue], list[MessageLogEntry]]:
        values = await uow.session.scalars(select(MeterValue).order_by(MeterValue.id))
        log = await uow.session.scalars(select(MessageLogEntry))
        return list(values), list(log)

    values, log = await committer.read(read)
    assert [v.energy_wh for v in values] == [
        Decimal("1234.5"),
        Decimal("1235.5"),
        Decimal("1236.5"),
        None,
    ]
    assert [v.power_w for v in values] == [None, None, None, Decimal(7)]
    assert values[1].sampled_values == '[["Energy.Active.Import.Register",null,null,null,"1235.5"]]'
    assert {v.timestamp.replace(tzinfo=UTC) for v in values[:3]} == {at}
    assert values[3].timestamp.replace(tzinfo=UTC) == at + timedelta(seconds=1)
    assert [(e.message_id, e.frame, e.at.replace(tzinfo=UTC)) for e in log] == [
        ("m1", '[2,"m1","Heartbeat",{}]', at)
    ]


async def test_tables_with_python_defaults_still_get_them(committer: GroupCommitter) -> None:
    # Operator.role and .active have Python-side defaults: the compiled fast path steps aside.
    at = datetime(2026, 3, 1, tzinfo=UTC)

    async def write(uow: UnitOfWork) -> None:
        uow.bulk_insert(Operator, [{"email": "a@x.test", "password_hash": "h", "created_at": at}])

    await committer.run(write)

    async def read(uow: UnitOfWork) -> tuple[str, bool]:
        operator = (await uow.session.scalars(select(Operator))).one()
        return operator.role, operator.active

    assert await committer.read(read) == ("admin", True)


async def test_tuple_rows_read_back_as_dict_rows_do(committer: GroupCommitter) -> None:
    """bulk_insert_rows (tuples in a given key order) stores exactly what bulk_insert does,
    whatever order the dialect's INSERT wants its parameters in."""
    at = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    keys = ("power_w", "timestamp", "station_id", "evse_id", "sampled_values", "connector_id")
    rows = [
        (Decimal("10.25"), at, "CP-T", 1, "[1]", 1),
        (None, at, "CP-T", 1, "[2]", None),
        (Decimal("-3"), at + timedelta(seconds=1), "CP-T", 2, "[3]", 2),
    ]

    async def write(uow: UnitOfWork) -> None:
        uow.bulk_insert_rows(MeterValue, keys, rows)

    await committer.run(write)

    async def read(uow: UnitOfWork) -> list[MeterValue]:
        query = select(MeterValue).where(MeterValue.station_id == "CP-T").order_by(MeterValue.id)
        return list(await uow.session.scalars(query))

    stored = await committer.read(read)
    assert [
        (v.power_w, v.timestamp.replace(tzinfo=UTC), v.evse_id, v.sampled_values, v.connector_id)
        for v in stored
    ] == [
        (Decimal("10.25"), at, 1, "[1]", 1),
        (None, at, 1, "[2]", None),
        (Decimal("-3"), at + timedelta(seconds=1), 2, "[3]", 2),
    ]
