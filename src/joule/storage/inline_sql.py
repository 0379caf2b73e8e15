"""Hot statements straight to SQLite's driver while a write transaction runs inline.

Inside the group committer's write transaction on SQLite every statement already runs inline on
the event loop (sqlite_inline.py). Going through SQLAlchemy still costs ~60–110 µs of CPU per
statement (greenlet switch, execution context, cursor and result objects) against a few µs of
SQLite: a batch of one MeterValues paid that four times (T6) and T3's batches once per
statement. The hot statements here go to the sqlite3 connection itself, compiled once and with
SQLAlchemy's own bind and result processors, so the stored and read values are exactly what
Core would store and read. Anywhere else (PostgreSQL, an off-loop read) reads take the ordinary
Core path; writes (execute_many) go as driver SQL with positional rows on any positional dialect
(asyncpg too), skipping SQLAlchemy's per-row parameter dicts (ADR 0017). ADR 0006 (addendum).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from joule.storage.binds import Processor, bind_processor
from joule.storage.sqlite_inline import Sqlite3Connection


def inline_driver(connection: AsyncConnection) -> sqlite3.Connection | None:
    """The sqlite3 connection under `connection` while it runs inline; else None."""
    raw = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    if isinstance(raw, Sqlite3Connection) and raw.inline:
        return raw
    return None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # positional parameter names, in order (a name may repeat)
    binds: tuple[Processor | None, ...]
    # (column index, processor) for the result columns that have one: a row is converted at
    # those indexes only (T3: ~2 µs less per preloaded meter state than a zip over every column).
    converters: tuple[tuple[int, Processor], ...]
    expanding: frozenset[str]  # IN parameters whose placeholders are rendered per execution
    # Values the statement carries itself (a literal in an expression, e.g. coalesce(x, 0)).
    literals: Mapping[str, Any]
    # For execute_many: each distinct name once (a repeated `b_at` is processed once per row),
    # the processors by position in `unique`, and the positional order picked from it.
    unique: tuple[str, ...]
    unique_binds: tuple[tuple[int, Processor], ...]
    spread: Callable[[list[Any]], tuple[Any, ...]]


_COMPILED: dict[tuple[str, int], _Compiled] = {}  # (dialect, id of a module-level statement)
_KEEP: list[Executable] = []  # the statements compiled above live as long as the cache


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    key = (dialect.name, id(statement))
    found = _COMPILED.get(key)
    if found is not None:
        return found
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler) and compiled.positional and compiled.positiontup
    names = tuple(compiled.positiontup)
    # A name may stand for several bind parameters of different types (`b_at` compared with a
    # DATETIME column and, untyped, as a CASE result): each name takes the processor of any of
    # its typed parameters, as SQLAlchemy's own execution does.
    processors: dict[str, Processor] = {}
    for parameter, name in compiled.bind_names.items():
        process = bind_processor(parameter.type, dialect)
        if process is not None:
            processors.setdefault(name, process)
    binds = tuple(processors.get(name) for name in names)
    columns = getattr(statement, "selected_columns", ())
    results = (
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    converters = tuple((index, p) for index, p in enumerate(results) if p is not None)
    expanding = frozenset(name for name in names if compiled.binds[name].expanding)
    literals = {
        name: compiled.binds[name].value for name in names if not compiled.binds[name].required
    }
    for name in expanding:
        # SQLAlchemy renders an expanding IN as this token until execution; fail loudly if not.
        assert f"(__[POSTCOMPILE_{name}])" in compiled.string, compiled.string
    unique = tuple(dict.fromkeys(names))
    position = {name: index for index, name in enumerate(unique)}
    unique_binds = tuple(
        (position[name], processors[name]) for name in unique if name in processors
    )
    found = _COMPILED[key] = _Compiled(
        compiled.string,
        names,
        binds,
        converters,
        expanding,
        literals,
        unique,
        unique_binds,
        _picker(tuple(position[name] for name in names)),
    )
    _KEEP.append(statement)
    return found


def _picker(indexes: tuple[int, ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """values → the tuple of values at `indexes` (itemgetter, a tuple even for one index)."""
    if len(indexes) == 1:
        (index,) = indexes
        return lambda values: (values[index],)
    return cast(Callable[[list[Any]], tuple[Any, ...]], itemgetter(*indexes))


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    sql, args = compiled.sql, list[Any]()
    for name, process in zip(compiled.names, compiled.binds, strict=True):
        value = compiled.literals[name] if name in compiled.literals else params[name]
        if name in compiled.expanding:
            sql = sql.replace(f"(__[POSTCOMPILE_{name}])", f"({', '.join('?' * len(value))})")
            args.extend(map(process, value) if process else value)
        else:
            args.append(process(value) if process else value)
    return sql, args


async def fetch(
    connection: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Rows of a module-level SELECT (built once), as Core would return them."""
    raw = inline_driver(connection)
    compiled = _compile(statement, connection.dialect) if raw is not None else None
    if raw is None or compiled is None or any(not params[n] for n in compiled.expanding):
        # An empty IN list takes Core's own empty-IN rendering.
        return [tuple(row) for row in await connection.execute(statement, dict(params))]
    sql, args = _arguments(compiled, params)
    rows: list[tuple[Any, ...]] = raw.execute(sql, args).fetchall()
    converters = compiled.converters
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index, process in converters:
            values[index] = process(values[index])
        converted.append(tuple(values))
    return converted


async def execute_many(
    connection: AsyncConnection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """A module-level INSERT/UPDATE/DELETE (built once) for every row of parameters: on the
    inline sqlite3 connection, or as driver SQL (PostgreSQL's asyncpg: positional too), never
    through SQLAlchemy's per-row parameter processing."""
    # Positional dialects only (sqlite3's qmark, asyncpg's $n): rows go as tuples.
    compiled = _compile(statement, connection.dialect) if connection.dialect.positional else None
    if compiled is None or compiled.expanding:
        await connection.execute(statement, [dict(row) for row in rows])
        return
    # Row by row: each distinct parameter's value (a literal's own), processed once, then spread
    # into positional order — ~5 µs a row for the connect UPDATE before (its `b_at` three times).
    literals, unique = compiled.literals, compiled.unique
    values = [[literals[n] if n in literals else row[n] for n in unique] for row in rows]
    for index, process in compiled.unique_binds:
        for row_values in values:
            row_values[index] = process(row_values[index])
    spread = compiled.spread
    bound = [spread(row_values) for row_values in values]
    raw = inline_driver(connection)
    if raw is not None:
        raw.executemany(compiled.sql, bound)
    else:
        await connection.exec_driver_sql(compiled.sql, bound)


def executemany_sql(connection: AsyncConnection, sql: str, rows: list[Any]) -> bool:
    """Run already-compiled SQL with processed rows on the inline driver; False if not inline."""
    raw = inline_driver(connection)
    if raw is None:
        return False
    raw.executemany(sql, rows)
    return True
