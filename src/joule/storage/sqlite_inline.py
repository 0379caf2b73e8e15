"""SQLite for the async engine without a thread hop per statement (performance.md T3, T10).

aiosqlite runs every call (cursor, execute, fetch, close) on its own thread and wakes the event
loop for each result: ~110 µs of CPU per statement here against ~8 µs for the statement itself,
so a MeterValues paid more for the hops than for its SQL. SQLite statements inside a transaction
that already holds the write lock take microseconds and never wait, so they run inline on the
event loop. Only the calls that can wait run on a worker thread, leaving the loop free:

- BEGIN IMMEDIATE (takes the write lock; may wait busy_timeout for another process, Q21),
- COMMIT (with synchronous=FULL it returns after fsync: the durable acknowledgement, ADR 0003).

Plugged in through SQLAlchemy's documented `module=` argument of create_engine: the dialect is
still SQLAlchemy's aiosqlite dialect (SQLite SQL, the async engine), only its DBAPI module differs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.util.concurrency import await_, in_greenlet

T = TypeVar("T")

# Statements that may wait for another connection's lock: never on the event loop.
_WAITING_STATEMENTS = frozenset({"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


def _off_loop(executor: ThreadPoolExecutor, function: Callable[..., T], *args: Any) -> T:
    """Run a call that may block on a worker thread, awaited from SQLAlchemy's greenlet."""
    if not in_greenlet():
        return function(*args)  # a sync caller (pool clean-up at exit) may block: it is not a loop
    loop = asyncio.get_running_loop()
    return await_(loop.run_in_executor(executor, function, *args))


async def _yield() -> None:
    """An awaitable that completes at once."""


class InlineCursor(sqlite3.Cursor):
    """A sqlite3 cursor that sends the lock-taking BEGIN to its connection's worker thread."""

    def execute(self, sql: str, parameters: Any = (), /) -> InlineCursor:
        """Run a statement inline, or off the loop when it may wait for a lock."""
        if sql in _WAITING_STATEMENTS:
            connection = self.connection
            assert isinstance(connection, _Sqlite3Connection)
            _off_loop(connection.worker(), super().execute, sql, parameters)
            return self
        super().execute(sql, parameters)
        return self

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async result hook: sqlite3 rows stay readable inline, nothing to do."""


class _Sqlite3Connection(sqlite3.Connection):
    """sqlite3 with its own worker thread for the calls that may wait (created on first use).

    One thread per connection, not a shared pool: a BEGIN IMMEDIATE waiting for a lock must
    never queue the COMMIT that would release it behind itself (two engines in one process).
    """

    _worker: ThreadPoolExecutor | None = None

    def worker(self) -> ThreadPoolExecutor:
        """This connection's thread for lock waits and fsyncs."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joule-sqlite")
        return self._worker

    def close(self) -> None:
        """Close the connection and end its worker thread."""
        super().close()
        if self._worker is not None:
            self._worker.shutdown(wait=False)
            self._worker = None


class InlineConnection(AdaptedConnection):
    """The DBAPI connection SQLAlchemy sees: sqlite3, used from the event loop thread."""

    __slots__ = ("dbapi",)

    # A sync sqlite3 connection where the base class expects an asyncio driver's.
    _connection: _Sqlite3Connection  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: _Sqlite3Connection) -> None:
        self.dbapi = dbapi
        self._connection = connection

    def cursor(self, server_side: bool = False) -> InlineCursor:
        """A new cursor (sqlite3 cursors are lazy: server-side needs nothing more)."""
        if in_greenlet():
            # AsyncConnection.execute insists that the driver awaited at least once (it guards
            # against sync drivers); one no-op switch per statement costs about a microsecond.
            await_(_yield())
        return self._connection.cursor(InlineCursor)

    def execute(self, operation: str, parameters: Any = ()) -> InlineCursor:
        """Convenience DBAPI execute on a fresh cursor."""
        return self.cursor().execute(operation, parameters)

    @property
    def isolation_level(self) -> str | None:
        """sqlite3's implicit-transaction mode (None: Joule issues BEGIN itself)."""
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._connection.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register an SQL function (used by SQLAlchemy's SQLite dialect for REGEXP)."""
        self._connection.create_function(*args, **kwargs)

    def commit(self) -> None:
        """COMMIT off the loop: with synchronous=FULL it returns only after fsync."""
        _off_loop(self._connection.worker(), self._connection.commit)

    def rollback(self) -> None:
        """ROLLBACK inline: it never waits for a lock."""
        self._connection.rollback()

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


class InlineSQLiteDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for SQLAlchemy's async SQLite dialect, backed by sqlite3 directly."""

    def __init__(self) -> None:
        # sqlite3 provides every name the dialect reads (exceptions, sqlite_version, Binary …).
        super().__init__(sqlite3, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> InlineConnection:  # type: ignore[override]
        """Open a sqlite3 connection usable from the loop thread and the worker thread."""
        kwargs.pop("async_creator_fn", None)
        # Used by one coroutine at a time (the pool hands a connection to one session), from the
        # loop thread and, for BEGIN IMMEDIATE and COMMIT, the worker thread while it waits.
        kwargs["check_same_thread"] = False
        kwargs["factory"] = _Sqlite3Connection
        connection = sqlite3.connect(*args, **kwargs)
        assert isinstance(connection, _Sqlite3Connection)
        return InlineConnection(self, connection)
