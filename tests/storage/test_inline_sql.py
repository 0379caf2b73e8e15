"""inline_sql: the hot statements reach SQLite's driver directly inside the committer's write
transaction, and read and write exactly what Core reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, case, delete, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from joule.storage import inline_sql
from joule.storage.committer import GroupCommitter
from joule.storage.models import Transaction
from joule.storage.uow import UnitOfWork
from tests.conftest import TEST_DB
from tests.domain.helpers import add_station

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)

_SELECT = select(
    Transaction.id, Transaction.started_at, Transaction.last_meter_wh, Transaction.status
).where(Transaction.id.in_(bindparam("ids", expanding=True)))
_UPDATE = (
    update(Transaction)
    .where(Transaction.id == bindparam("pk"))
    .values(last_meter_wh=bindparam("wh"), last_meter_at=bindparam("at"))
)


async def _transactions(committer: GroupCommitter) -> None:
    await add_station(committer, "CS-1")

    async def add(uow: UnitOfWork) -> None:
        for pk in (1, 2):
            uow.session.add(
                Transaction(
                    id=pk,
                    station_id="CS-1",
                    evse_id=1,
                    transaction_uid=f"t{pk}",
                    status="active",
                    started_at=T0,
                    meter_start_wh=Decimal(0),
                    last_meter_wh=Decimal("10.5"),
                    created_at=T0,
                    updated_at=T0,
                )
            )

    await committer.run(add)


async def test_reads_and_writes_what_core_does(committer: GroupCommitter) -> None:
    await _transactions(committer)

    async def through_both(uow: UnitOfWork) -> tuple[Any, ...]:
        connection = await uow.connection()
        # The committer's write transaction runs inline on SQLite: the driver path is taken.
        inline = inline_sql.inline_driver(connection) is not None
        fast = await inline_sql.fetch(connection, _SELECT, {"ids": [2, 1, 99]})
        core = [tuple(r) for r in await connection.execute(_SELECT, {"ids": [2, 1, 99]})]
        empty = await inline_sql.fetch(connection, _SELECT, {"ids": []})
        await inline_sql.execute_many(
            connection,
            _UPDATE,
            [{"pk": 1, "wh": Decimal("1234.5"), "at": T0}, {"pk": 2, "wh": None, "at": None}],
        )
        return inline, sorted(fast), sorted(core), empty

    inline, fast, core, empty = await committer.run(through_both)
    assert inline is (TEST_DB == "sqlite")
    assert fast == core and len(fast) == 2 and empty == []
    assert fast[0][2] == Decimal("10.5") and fast[0][1].replace(tzinfo=UTC) == T0

    async def read(uow: UnitOfWork) -> list[tuple[Any, ...]]:
        rows = await uow.session.execute(
            select(Transaction.id, Transaction.last_meter_wh, Transaction.last_meter_at).order_by(
                Transaction.id
            )
        )
        return [tuple(r) for r in rows]

    (_, wh1, at1), (_, wh2, at2) = await committer.read(read)
    assert (wh1, at1.replace(tzinfo=UTC), wh2, at2) == (Decimal("1234.5"), T0, None, None)


async def test_outside_a_write_transaction_it_takes_the_core_path(
    committer: GroupCommitter,
) -> None:
    await _transactions(committer)

    async def read(uow: UnitOfWork) -> tuple[bool, list[tuple[Any, ...]]]:
        connection = await uow.connection()
        return (
            inline_sql.inline_driver(connection) is not None,
            await inline_sql.fetch(connection, _SELECT, {"ids": [1]}),
        )

    inline, rows = await committer.read(read)
    assert not inline and [r[0] for r in rows] == [1]


@pytest.mark.parametrize("ids", [[1], [1, 2]])
async def test_an_in_list_of_any_length(committer: GroupCommitter, ids: list[int]) -> None:
    await _transactions(committer)

    async def fetch(uow: UnitOfWork) -> list[tuple[Any, ...]]:
        return await inline_sql.fetch(await uow.connection(), _SELECT, {"ids": ids})

    assert sorted(r[0] for r in await committer.run(fetch)) == ids


_TX = Transaction.__table__
# `at` stands for two parameters: typed by the comparison with a DATETIME column, untyped as the
# CASE's result; the 0 inside coalesce() is a value the statement carries itself.
_MOVE = (
    update(_TX)
    .where(_TX.c.id == bindparam("pk"))
    .values(
        last_meter_at=case(
            (
                or_(_TX.c.last_meter_at.is_(None), _TX.c.last_meter_at < bindparam("at")),
                bindparam("at"),
            ),
            else_=_TX.c.last_meter_at,
        ),
        last_meter_wh=func.coalesce(_TX.c.last_meter_wh, 0) + bindparam("wh"),
    )
)


async def test_a_repeated_name_and_a_literal_are_bound_as_core_binds_them(
    committer: GroupCommitter,
) -> None:
    """Found by the T7 work (ADR 0017): the untyped occurrence of a repeated name got no
    DATETIME processor, so SQLite stored the datetime in sqlite3's own format and later
    comparisons with it went wrong; a literal inside an expression was not bound at all."""
    await _transactions(committer)
    later = T0.replace(hour=13)

    async def move(uow: UnitOfWork) -> None:
        connection = await uow.connection()
        await inline_sql.execute_many(connection, _MOVE, [{"pk": 1, "at": later, "wh": 1}])
        await connection.execute(_MOVE, [{"pk": 2, "at": later, "wh": 1}])

    await committer.run(move)

    async def read(uow: UnitOfWork) -> list[tuple[Any, ...]]:
        rows = await (await uow.connection()).exec_driver_sql(
            "SELECT id, last_meter_at, last_meter_wh FROM transactions ORDER BY id"
        )
        return [tuple(r) for r in rows]

    (_, at1, wh1), (_, at2, wh2) = await committer.read(read)
    # Stored exactly alike, as the driver hands them back (no SQLAlchemy result processing).
    assert (at1, wh1) == (at2, wh2)


_DELETE = delete(_TX).where(_TX.c.id == bindparam("pk"))


async def test_a_statement_of_one_parameter(committer: GroupCommitter) -> None:
    """One positional parameter: each row still goes to the driver as a one-value sequence."""
    await _transactions(committer)

    async def remove(uow: UnitOfWork) -> None:
        await inline_sql.execute_many(await uow.connection(), _DELETE, [{"pk": 2}])

    await committer.run(remove)

    async def ids(uow: UnitOfWork) -> list[int]:
        return list(await uow.session.scalars(select(Transaction.id)))

    assert await committer.read(ids) == [1]


async def test_rows_reach_the_driver_as_bound_sql(
    committer: GroupCommitter, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """execute_many never takes SQLAlchemy's compiled execution with a dict per row (~5 µs a
    row): on SQLite the rows go to sqlite3 itself (no engine event at all), on PostgreSQL as
    driver SQL with positional rows (T3 on PostgreSQL: −5 % per MeterValues)."""
    await _transactions(committer)
    seen: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, _many: bool) -> None:
        seen.append((sql, context.compiled is not None))

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:

        async def move(uow: UnitOfWork) -> None:
            rows = [{"pk": 1, "wh": Decimal(5), "at": T0}, {"pk": 2, "wh": Decimal(6), "at": T0}]
            await inline_sql.execute_many(await uow.connection(), _UPDATE, rows)

        await committer.run(move)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    updates = [compiled for sql, compiled in seen if sql.lstrip().upper().startswith("UPDATE")]
    assert updates == ([] if TEST_DB == "sqlite" else [False])
