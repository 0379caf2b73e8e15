"""Migration 0007: per-sample meter-value rows become one row per reading, and back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from joule.storage import migrate
from joule.storage.db import create_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 1, tzinfo=UTC)

_COLUMNS = (
    "station_id, evse_id, connector_id, transaction_pk, timestamp, measurand, phase, location,"
    " context, value, unit, raw_value, raw_unit, signed_data"
)
# Two readings of one transaction (three and two samples), one main-meter reading of another
# station at T0, and a reading at T1 whose first sample repeats a key of the T0 reading.
_ROWS = [
    (
        "CS-1",
        1,
        1,
        7,
        T0,
        "Energy.Active.Import.Register",
        None,
        "Outlet",
        "Sample.Periodic",
        Decimal("1500.5"),
        "Wh",
        "1.5005",
        "kWh",
        None,
    ),
    (
        "CS-1",
        1,
        1,
        7,
        T0,
        "Power.Active.Import",
        None,
        None,
        "Sample.Periodic",
        Decimal("7200"),
        "W",
        "7.2",
        "kW",
        None,
    ),
    (
        "CS-1",
        1,
        1,
        7,
        T0,
        "Current.Import",
        "L1",
        None,
        "Sample.Periodic",
        Decimal("16"),
        "A",
        "16",
        "A",
        None,
    ),
    (
        "CS-2",
        0,
        None,
        None,
        T0,
        "Energy.Active.Import.Register",
        None,
        None,
        None,
        None,
        "Wh",
        "garbage",
        None,
        None,
    ),
    (
        "CS-1",
        1,
        1,
        7,
        T1,
        "Energy.Active.Import.Register",
        None,
        "Outlet",
        "Sample.Periodic",
        Decimal("1600"),
        "Wh",
        "1600",
        "Wh",
        "OCMF|{}",
    ),
    (
        "CS-1",
        1,
        1,
        7,
        T1,
        "Voltage",
        "L1-N",
        None,
        "Sample.Periodic",
        Decimal("230.1"),
        "V",
        "230.1",
        "V",
        None,
    ),
]


_V0006 = sa.table(
    "meter_values",
    *(
        sa.column(name.strip(), type_)
        for name, type_ in zip(
            _COLUMNS.split(","),
            [sa.String(), sa.Integer(), sa.Integer(), sa.BigInteger(), sa.DateTime(timezone=True)]
            + [sa.String()] * 4
            + [sa.Numeric(24, 6)]
            + [sa.String()] * 4,
            strict=True,
        )
    ),
)


async def _insert_0006_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    names = [name.strip() for name in _COLUMNS.split(",")]
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(_V0006), [dict(zip(names, row, strict=True)) for row in _ROWS]
            )
    finally:
        await engine.dispose()


async def _select(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(query))).all()]
    finally:
        await engine.dispose()


async def _downgrade(database_url: str, revision: str) -> None:
    engine = create_engine(database_url)
    config = migrate.alembic_config()

    def down(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(down)
    finally:
        await engine.dispose()


async def test_per_sample_rows_become_one_row_per_reading_and_back(
    empty_database_url: str,
) -> None:
    await migrate.upgrade_async(empty_database_url, "0006")
    await _insert_0006_rows(empty_database_url)

    await migrate.upgrade_async(empty_database_url)

    packed = await _select(
        empty_database_url,
        "SELECT station_id, evse_id, transaction_pk, energy_wh, power_w, sampled_values"
        " FROM meter_values ORDER BY id",
    )
    assert [row[:3] for row in packed] == [("CS-1", 1, 7), ("CS-2", 0, None), ("CS-1", 1, 7)]
    # The whole-EVSE register and power are columns; garbage (no value) is neither.
    assert [(Decimal(str(r[3])) if r[3] is not None else None) for r in packed] == [
        Decimal("1500.5"),
        None,
        Decimal("1600"),
    ]
    assert [(Decimal(str(r[4])) if r[4] is not None else None) for r in packed] == [
        Decimal("7200"),
        None,
        None,
    ]
    assert await migrate.check_async(empty_database_url) == []

    # Read through the model: every sample back, in the order written, values exact.
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from joule.storage.models import MeterValue, sampled_values

    engine = create_engine(empty_database_url)
    try:
        async with AsyncSession(engine) as session:
            readings = list(await session.scalars(select(MeterValue).order_by(MeterValue.id)))
            samples = sampled_values(readings)
    finally:
        await engine.dispose()
    assert [
        (
            s.station_id,
            s.evse_id,
            s.connector_id,
            s.transaction_pk,
            s.timestamp.replace(tzinfo=UTC),
            s.measurand,
            s.phase,
            s.location,
            s.context,
            s.value,
            s.unit,
            s.raw_value,
            s.raw_unit,
            s.signed_data,
        )
        for s in samples
    ] == [_ROWS[0], _ROWS[1], _ROWS[2], _ROWS[3], _ROWS[4], _ROWS[5]]

    await _downgrade(empty_database_url, "0006")

    flat = await _select(
        empty_database_url,
        f"SELECT {_COLUMNS} FROM meter_values ORDER BY timestamp, station_id, id",
    )
    assert [(r[0], r[5], r[11], r[13]) for r in flat] == [
        (row[0], row[5], row[11], row[13])
        for row in (_ROWS[0], _ROWS[1], _ROWS[2], _ROWS[3], _ROWS[4], _ROWS[5])
    ]
    assert [Decimal(str(r[9])) if r[9] is not None else None for r in flat] == [
        row[9] for row in (_ROWS[0], _ROWS[1], _ROWS[2], _ROWS[3], _ROWS[4], _ROWS[5])
    ]
