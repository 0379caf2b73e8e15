"""A transaction's live-energy state, read and written without the ORM (the MeterValues hot path).

A 1.6 MeterValues only needs a handful of a transaction's columns and moves two of them. Loading
the whole ORM object cost ~120 µs on SQLite (every datetime and decimal column converted, the
`seq_nos` JSON parsed) and its UPDATE went through the ORM flush: together about a third of a
MeterValues' CPU (T3). Here the batch reads those columns in one Core query and writes the moved
ones back in one executemany at flush.

The UPDATE only moves a register forward (a later-or-equal time and a higher-or-equal value than
what the row holds at flush), so a write by an ORM unit of the same batch — StopTransaction's
final reading, say — is never overwritten by an older reading (plan_register_update's rule).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, update

from joule.storage import inline_sql
from joule.storage.models import Transaction
from joule.storage.uow import UnitOfWork

_BIGINT = 2**63
_STATES = "meter_state"  # uow.lean key prefix
_MOVED = "meter_state.moved"  # uow.lean key of the states to write at flush


@dataclass(slots=True)
class MeterState:
    """The columns of a transaction a meter reading reads or moves (naive UTC on SQLite)."""

    id: int
    station_id: str
    status: str
    started_at: datetime | None
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    last_meter_wh: Decimal | None
    last_meter_at: datetime | None
    updated_at: datetime | None = None


_COLUMNS = (
    Transaction.id,
    Transaction.station_id,
    Transaction.status,
    Transaction.started_at,
    Transaction.meter_start_wh,
    Transaction.meter_stop_wh,
    Transaction.last_meter_wh,
    Transaction.last_meter_at,
)

# Built once: constructing a statement costs ~0.3 ms of SQLAlchemy expression work, per batch
# (T6: a batch of one MeterValues at low load); a reused one only hits the compiled cache.
_SELECT = select(*_COLUMNS).where(Transaction.id.in_(bindparam("ids", expanding=True)))
_TABLE = Transaction.__table__
assert isinstance(_TABLE, Table)
_UPDATE = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("pk"),
        or_(_TABLE.c.last_meter_at.is_(None), _TABLE.c.last_meter_at <= bindparam("at")),
        or_(_TABLE.c.last_meter_wh.is_(None), _TABLE.c.last_meter_wh <= bindparam("wh")),
    )
    .values(
        last_meter_wh=bindparam("wh"), last_meter_at=bindparam("at"), updated_at=bindparam("now")
    )
)


async def load_meter_states(uow: UnitOfWork, keys: Collection[Any]) -> None:
    """Read the state of these transactions (by our id) for the whole batch: one query."""
    wanted = [
        key
        for key in keys
        if type(key) is int and -_BIGINT <= key < _BIGINT and (_STATES, key) not in uow.lean
    ]
    if not wanted:
        return
    connection = await uow.connection()
    for row in await inline_sql.fetch(connection, _SELECT, {"ids": wanted}):
        uow.lean[(_STATES, row[0])] = MeterState(*row)


async def meter_state(uow: UnitOfWork, station_id: str, pk: int) -> MeterState | None:
    """The state of this station's transaction `pk` (preloaded, else read now), or None."""
    state = uow.lean.get((_STATES, pk))
    if state is None:
        await load_meter_states(uow, (pk,))
        state = uow.lean.get((_STATES, pk))
    if not isinstance(state, MeterState) or state.station_id != station_id:
        return None  # unknown, or another station's transaction id
    return state


def moved(uow: UnitOfWork, state: MeterState) -> None:
    """The state's register moved: write it at flush (once per batch, whatever the count)."""
    states: dict[int, MeterState] = uow.lean.setdefault(_MOVED, {})
    states[state.id] = state
    uow.on_flush(_MOVED, _write_moved)


async def _write_moved(uow: UnitOfWork) -> None:
    states: dict[int, MeterState] = uow.lean.pop(_MOVED, {})
    if not states:
        return
    connection = await uow.connection()
    rows = [
        {
            "pk": s.id,
            "wh": s.last_meter_wh,
            "at": s.last_meter_at,
            "now": s.updated_at or s.last_meter_at,
        }
        for s in states.values()
    ]
    await inline_sql.execute_many(connection, _UPDATE, rows)
