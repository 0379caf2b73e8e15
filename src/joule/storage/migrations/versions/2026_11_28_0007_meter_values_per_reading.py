"""meter values: one row per OCPP MeterValue, its sampled values packed (ADR 0014)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 20:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The per-sample columns of revision 0006, in models.SAMPLE_FIELDS order.
_SAMPLE_COLUMNS = (
    ("measurand", sa.String(length=64)),
    ("phase", sa.String(length=8)),
    ("location", sa.String(length=16)),
    ("context", sa.String(length=32)),
    ("value", sa.Numeric(precision=24, scale=6)),
    ("unit", sa.String(length=16)),
    ("raw_value", sa.Text()),
    ("raw_unit", sa.String(length=32)),
    ("signed_data", sa.Text()),
)
_READING_COLUMNS = ("station_id", "evse_id", "connector_id", "transaction_pk", "timestamp")
_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_MAX_REGISTER_WH = Decimal(10) ** 15
_CHUNK = 5_000


def _table(*extra: tuple[str, Any]) -> sa.TableClause:
    return sa.table(
        "meter_values",
        sa.column("id", sa.BigInteger()),
        sa.column("station_id", sa.String()),
        sa.column("evse_id", sa.Integer()),
        sa.column("connector_id", sa.Integer()),
        sa.column("transaction_pk", sa.BigInteger()),
        sa.column("timestamp", sa.DateTime(timezone=True)),
        *(sa.column(name, type_) for name, type_ in extra),
    )


def _rows(connection: sa.Connection, table: sa.TableClause) -> Iterator[sa.Row[Any]]:
    """Every row in id order, read in keyset chunks (a big table never sits in memory)."""
    last = -(2**63)
    while True:
        chunk = connection.execute(
            sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(_CHUNK)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].id


def _whole(sample: tuple[Any, ...], measurand: str) -> bool:
    return sample[0] == measurand and sample[1] is None and sample[2] in (None, "Outlet")


def _pack(group: list[sa.Row[Any]]) -> dict[str, Any]:
    samples = [tuple(getattr(row, name) for name, _ in _SAMPLE_COLUMNS) for row in group]
    energy = power = None
    for sample in samples:
        value = sample[4]
        if value is None:
            continue
        if _whole(sample, _ENERGY) and 0 <= value < _MAX_REGISTER_WH:
            energy = value
        elif _whole(sample, _POWER):
            power = value
    return {
        "keep": group[0].id,
        "p_energy_wh": energy,
        "p_power_w": power,
        "p_sampled_values": orjson.dumps(samples, default=str).decode(),
    }


def upgrade() -> None:
    """Ten index entries per MeterValues were most of T3's cost on SQLite: one row per reading.

    The rows of one reading were written together (consecutive ids, same station, EVSE,
    transaction and time); each such run becomes its first row with every sample packed.
    """
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.add_column(sa.Column("energy_wh", sa.Numeric(24, 6), nullable=True))
        batch_op.add_column(sa.Column("power_w", sa.Numeric(24, 6), nullable=True))
        batch_op.add_column(sa.Column("sampled_values", sa.Text(), nullable=True))
    connection = op.get_bind()
    table = _table(
        *_SAMPLE_COLUMNS,
        ("energy_wh", sa.Numeric(24, 6)),
        ("power_w", sa.Numeric(24, 6)),
        ("sampled_values", sa.Text()),
    )
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("keep"))
        .values(
            energy_wh=sa.bindparam("p_energy_wh"),
            power_w=sa.bindparam("p_power_w"),
            sampled_values=sa.bindparam("p_sampled_values"),
        )
    )
    delete = sa.delete(table).where(table.c.id == sa.bindparam("drop"))
    packed: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    group: list[sa.Row[Any]] = []

    def flush() -> None:
        if packed:
            connection.execute(update, packed)
            packed.clear()
        if dropped:
            connection.execute(delete, dropped)
            dropped.clear()

    def close(group: list[sa.Row[Any]]) -> None:
        packed.append(_pack(group))
        dropped.extend({"drop": row.id} for row in group[1:])
        if len(packed) + len(dropped) >= _CHUNK:
            flush()

    # Rows are read in keyset chunks while earlier groups are rewritten: only ids already read
    # are updated or deleted.
    for row in _rows(connection, table):
        key = tuple(getattr(row, name) for name in _READING_COLUMNS)
        if group and key != tuple(getattr(group[0], name) for name in _READING_COLUMNS):
            close(group)
            group = []
        group.append(row)
    if group:
        close(group)
    flush()
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.alter_column("sampled_values", existing_type=sa.Text(), nullable=False)
        for name, _ in _SAMPLE_COLUMNS:
            batch_op.drop_column(name)


def downgrade() -> None:
    """One row per sampled value again: a reading's first sample keeps its row."""
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        for name, type_ in _SAMPLE_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    connection = op.get_bind()
    table = _table(*_SAMPLE_COLUMNS, ("sampled_values", sa.Text()))
    names = [name for name, _ in _SAMPLE_COLUMNS]
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("keep"))
        .values(**{name: sa.bindparam(f"s_{name}") for name in names})
    )
    insert = sa.insert(table)
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    # Read before any insert: the inserted rows must not be read back as readings.
    for row in list(_rows(connection, table)):
        samples = orjson.loads(row.sampled_values)
        values = [
            {
                name: Decimal(v) if name == "value" and v is not None else v
                for name, v in zip(names, sample, strict=True)
            }
            for sample in samples
        ]
        if not values:
            continue
        updates.append({"keep": row.id, **{f"s_{k}": v for k, v in values[0].items()}})
        head = {name: getattr(row, name) for name in _READING_COLUMNS}
        inserts.extend({**head, **more, "sampled_values": ""} for more in values[1:])
    if updates:
        connection.execute(update, updates)
    if inserts:
        connection.execute(insert, inserts)
    with op.batch_alter_table("meter_values", schema=None) as batch_op:
        batch_op.alter_column("measurand", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("raw_value", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("sampled_values")
        batch_op.drop_column("power_w")
        batch_op.drop_column("energy_wh")
