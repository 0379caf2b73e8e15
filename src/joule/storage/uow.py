"""The unit of work: one database transaction shared by a batch of operations.

Repositories never commit; the committer (storage/committer.py) commits at the edge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, event, insert, inspect, select, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from joule.storage import inline_sql
from joule.storage.binds import bind_processor
from joule.storage.models import Base

B = TypeVar("B", bound=Base)


@dataclass(frozen=True, slots=True)
class _CompiledInsert:
    """An INSERT compiled once per dialect, table and column set, with its bind processors."""

    sql: str
    order: tuple[str, ...]  # parameter order (positional paramstyles: qmark, $1 …)
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    @classmethod
    def of(cls, dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _CompiledInsert | None:
        """Compile, or None when a column the rows leave out has a Python-side default."""
        for column in table.columns:
            if column.key not in keys and column.default is not None:
                return None  # Core would compute the default per row: let it
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        positional = bool(compiled.positional)
        order = tuple(compiled.positiontup or ()) if positional else keys
        processors = tuple(bind_processor(table.c[key].type, dialect) for key in order)
        return cls(str(compiled), order, processors, positional)

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        """The rows as the DBAPI takes them: bind-processed, in parameter order."""
        if not self.positional:
            pairs = tuple(zip(self.order, self.processors, strict=True))
            return [{k: p(row[k]) if p else row[k] for k, p in pairs} for row in rows]
        pick = itemgetter(*self.order)
        if len(self.order) == 1:
            return self._processed([(pick(row),) for row in rows])
        return self._processed([pick(row) for row in rows])

    def tuple_parameters(self, keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[Any]:
        """Rows given as tuples in `keys` order, as the DBAPI takes them (no dict per row)."""
        if not self.positional:
            return self.parameters([dict(zip(keys, row, strict=True)) for row in rows])
        if self.order != keys:
            pick = itemgetter(*(keys.index(key) for key in self.order))
            rows = [(pick(row),) if len(self.order) == 1 else pick(row) for row in rows]
        return self._processed(rows)

    def _processed(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Positional rows with each column's bind processor applied, column by column."""
        processed = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        if not processed:
            return rows
        out = [list(row) for row in rows]
        for index, process in processed:
            # Rows of one message share their timestamp object: process each distinct value
            # once (SQLite's DATETIME processor formats a string in Python).
            memo: dict[Any, Any] = {}
            for values in out:
                value = values[index]
                try:
                    values[index] = memo[value]
                except KeyError:
                    values[index] = memo[value] = process(value)
                except TypeError:  # unhashable (JSON): process every time
                    values[index] = process(value)
        return [tuple(values) for values in out]  # SQLAlchemy's raw executemany takes tuples


# Rows per executemany: small enough that one chunk holds the event loop for a millisecond or two.
_CHUNK_ROWS = 200

# (dialect name, table name, column keys) → compiled insert; small: a few tables × column sets.
_INSERTS: dict[tuple[str, str, tuple[str, ...]], _CompiledInsert | None] = {}


def _key(key: Any) -> tuple[Any, ...]:
    """A primary key as a tuple (a single-column key may be given bare)."""
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


_IDENTITY_CLASSES: dict[type[Base], type[Any]] = {}


def identity_key(model: type[Base], key: Any) -> tuple[Any, ...]:
    """The session's identity-map key of a row, as Mapper.identity_key_from_primary_key builds
    it, without its per-call mapper lookup (~40 µs a call on the T7 path: several per message)."""
    identity_class = _IDENTITY_CLASSES.get(model)
    if identity_class is None:
        identity_class = _IDENTITY_CLASSES[model] = inspect(model)._identity_class
    return (identity_class, _key(key), None)


# Session.info key: the objects added to the session, by class (UnitOfWork.added_objects).
_ADDED = "joule.uow.added"


@event.listens_for(Session, "transient_to_pending")
def _note_added(session: Session, instance: object) -> None:
    session.info.setdefault(_ADDED, {}).setdefault(type(instance), []).append(instance)


class BatchLoader(Protocol):
    """Loads lean state for a whole batch in one query (a `preload=` key of committer.run)."""

    async def __call__(self, uow: UnitOfWork, keys: Collection[Any], /) -> None: ...


class UnitOfWork:
    """A session plus deferred bulk inserts and domain events to publish after commit."""

    def __init__(self, session: AsyncSession, connection: AsyncConnection | None = None) -> None:
        self.session = session
        self.events: list[object] = []
        # Lean per-batch state kept outside the ORM (e.g. repositories/meter_state.py), by key,
        # and writers run at flush after the ORM's own changes and the bulk inserts.
        self.lean: dict[Hashable, Any] = {}
        self._connection = connection  # the session's, when the caller already asked for it
        self._flush_writers: dict[Hashable, Callable[[UnitOfWork], Awaitable[None]]] = {}
        self._bulk: dict[type[Base], list[dict[str, Any]]] = {}
        self._bulk_rows: dict[tuple[type[Base], tuple[str, ...]], list[tuple[Any, ...]]] = {}
        # The session's identity map holds clean objects weakly: keep preloaded rows alive.
        self._preloaded: list[Base] = []

    async def preload(self, model: type[Base], keys: Collection[Any]) -> None:
        """Load rows by primary key in one query, so later gets in this unit need no SQL."""
        if not keys:
            return
        columns = inspect(model).primary_key
        # A composite key is given as a tuple in primary-key column order.
        key = columns[0] if len(columns) == 1 else tuple_(*columns)
        # No autoflush: a primary-key lookup does not depend on pending changes.
        with self.session.no_autoflush:
            rows = list(await self.session.scalars(select(model).where(key.in_(list(keys)))))
            self._preloaded.extend(rows)

    def added_objects(self, model: type[B]) -> list[B]:
        """The objects of `model` added to this unit's session (through the ORM), in order;
        flushed ones included."""
        added: list[B] = self.session.sync_session.info.get(_ADDED, {}).get(model, [])
        return added

    def loaded(self, model: type[B], key: Any) -> B | None:
        """The row this unit already holds by primary key (preloaded), without SQL; else None.

        `await session.get()` finds it too, but pays a greenlet switch and the ORM's get
        machinery per call (~0.1 ms, T3: once per MeterValues). Only a fully loaded, live object
        is returned; an expired or deleted one is left to session.get.
        """
        sync = self.session.sync_session
        found = sync.identity_map.get(identity_key(model, key))
        if found is None:
            return None
        state = inspect(found)
        if state.expired_attributes or state.deleted or state.was_deleted:
            return None
        return found if isinstance(found, model) else None

    def bulk_insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Queue rows for one executemany per table at flush time (T10: no single-row commits)."""
        if rows:
            self._bulk.setdefault(model, []).extend(rows)

    def bulk_insert_rows(
        self, model: type[Base], keys: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """bulk_insert for rows given as tuples in `keys` order (the hot path: T3's 10 rows per
        MeterValues skip a dict each, and its regrouping and reordering at flush)."""
        if rows:
            self._bulk_rows.setdefault((model, keys), []).extend(rows)

    async def connection(self) -> AsyncConnection:
        """The session's connection, for Core statements; asked of the session once per unit.

        `await session.connection()` walks the session's transaction state every time (~50 µs);
        a batch of one MeterValues asks for it four times (T6).
        """
        if self._connection is None:
            self._connection = await self.session.connection()
        return self._connection

    def on_flush(self, name: Hashable, writer: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Run `writer` once at flush (after ORM changes and bulk rows), however often asked."""
        self._flush_writers.setdefault(name, writer)

    def emit(self, event: object) -> None:
        """Queue a domain event; it is published only once the data is durable."""
        self.events.append(event)

    async def flush(self, pace: Callable[[], Awaitable[None]] | None = None) -> None:
        """Write queued bulk rows and pending ORM changes (no commit).

        `pace` is awaited between chunks of bulk rows, so a large flush (the message log of a
        busy half second) can let the event loop serve stations in between.
        """
        await self.session.flush()
        bulk, self._bulk = self._bulk, {}
        for model, rows in bulk.items():
            # One executemany per distinct column set: rows with and without e.g. `phase`
            # interleave, and an executemany needs identical keys (Core insert, no ORM overhead).
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                groups.setdefault(tuple(row), []).append(row)
            table = model.__table__
            assert isinstance(table, Table)
            for keys, group in groups.items():
                for start in range(0, len(group), _CHUNK_ROWS):
                    await self._insert_many(table, keys, group[start : start + _CHUNK_ROWS])
                    if pace is not None:
                        await pace()
        tuples, self._bulk_rows = self._bulk_rows, {}
        for (model, keys), values in tuples.items():
            table = model.__table__
            assert isinstance(table, Table)
            for start in range(0, len(values), _CHUNK_ROWS):
                await self._insert_tuples(table, keys, values[start : start + _CHUNK_ROWS])
                if pace is not None:
                    await pace()
        writers, self._flush_writers = self._flush_writers, {}
        for writer in writers.values():
            await writer(self)

    async def _insert_many(
        self, table: Table, keys: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        # Core's executemany builds and bind-processes a parameter dict per row: ~10 µs a row,
        # more than SQLite's insert itself (T3: 10 rows per MeterValues). The statement is
        # compiled once and rows go to the DBAPI as processed tuples (same values as Core's).
        connection, compiled = await self._compiled(table, keys)
        if compiled is None:
            await self.session.execute(insert(table), rows)
            return
        await _execute(connection, compiled.sql, compiled.parameters(rows))

    async def _insert_tuples(
        self, table: Table, keys: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        connection, compiled = await self._compiled(table, keys)
        if compiled is None:
            await self.session.execute(
                insert(table), [dict(zip(keys, r, strict=True)) for r in rows]
            )
            return
        await _execute(connection, compiled.sql, compiled.tuple_parameters(keys, rows))

    async def _compiled(
        self, table: Table, keys: tuple[str, ...]
    ) -> tuple[AsyncConnection, _CompiledInsert | None]:
        connection = await self.connection()
        dialect = connection.dialect
        cache_key = (dialect.name, table.name, keys)
        if cache_key not in _INSERTS:
            _INSERTS[cache_key] = _CompiledInsert.of(dialect, table, keys)
        return connection, _INSERTS[cache_key]


async def _execute(connection: AsyncConnection, sql: str, parameters: list[Any]) -> None:
    """A compiled INSERT's rows: straight to sqlite3 while inline, else through the driver."""
    if not inline_sql.executemany_sql(connection, sql, parameters):
        await connection.exec_driver_sql(sql, parameters)
