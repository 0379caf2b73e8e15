"""SQLite for the async engine without a thread hop per statement on the hot path (T3, T10).

aiosqlite runs every call (cursor, execute, fetch, close) on its own thread and wakes the event
loop for each result: ~110 µs of CPU per statement here against ~8 µs for the statement itself,
so a MeterValues paid more for the hops than for its SQL. This DBAPI module has two modes per
connection:

- inline, for the group committer's write transactions (BEGIN IMMEDIATE): their statements are
  small, hold the write lock already and never wait, so they run on the event loop;
- off the loop, for everything else (API reads, lookups, maintenance such as pruning): each
  statement runs with its rows fetched on the connection's worker thread (one hop, not four), so
  a long query never stalls the stations' frames (T5).

Whatever the mode, the calls that can wait run on the worker thread: BEGIN IMMEDIATE when
another connection holds the lock (it is first tried inline without waiting; busy_timeout, Q21)
and COMMIT (fsync with synchronous=FULL: the durable acknowledgement, ADR 0003).

Plugged in through SQLAlchemy's documented `module=` argument of create_engine: the dialect is
still SQLAlchemy's aiosqlite dialect (SQLite SQL, the async engine), only its DBAPI module differs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncSession
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


class Sqlite3Connection(sqlite3.Connection):
    """sqlite3 with its own worker thread (created on first use) and the inline flag.

    One thread per connection, not a shared pool: a BEGIN IMMEDIATE waiting for a lock must
    never queue the COMMIT that would release it behind itself (two engines in one process).
    """

    _worker: ThreadPoolExecutor | None = None
    _busy_timeout_ms: int | None = None  # the connection's busy_timeout, read once (db.py sets it)
    inline = False  # set per transaction by db.py: True for the committer's write transactions

    def lock_now(self, sql: str) -> bool:
        """Try BEGIN IMMEDIATE without waiting; False if another connection holds the lock.

        The lock is almost always free (one writer per process), so the thread hop a waiting
        BEGIN needs (~0.1 ms of CPU and a loop wake-up per batch, T6) is paid only on contention.
        """
        cursor = self.cursor()  # a plain sqlite3 cursor: inline, whatever the mode
        if self._busy_timeout_ms is None:
            cursor.execute("PRAGMA busy_timeout")
            self._busy_timeout_ms = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(sql)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms:d}")
            cursor.close()
        return True

    def worker(self) -> ThreadPoolExecutor:
        """This connection's thread for lock waits, fsyncs and off-loop statements."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joule-sqlite")
        return self._worker

    def close(self) -> None:
        """Close the connection and end its worker thread."""
        super().close()
        if self._worker is not None:
            self._worker.shutdown(wait=False)
            self._worker = None

    def terminate(self) -> None:
        """Close once the worker thread is idle: a cancelled await leaves the statement it was
        waiting for running there, and sqlite3 must not be closed under a running statement."""
        worker, self._worker = self._worker, None
        if worker is None:
            super().close()
            return
        worker.submit(super().close)
        worker.shutdown(wait=False)


async def begin_immediate(connection: Sqlite3Connection) -> None:
    """BEGIN IMMEDIATE on the raw connection (the committer's held writer, ADR 0016): inline
    when the lock is free, else waiting for it (busy_timeout) on the worker thread."""
    if connection.in_transaction:
        return
    if not connection.lock_now("BEGIN IMMEDIATE"):
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(connection.worker(), connection.execute, "BEGIN IMMEDIATE")


async def commit(connection: Sqlite3Connection) -> None:
    """COMMIT on the worker thread: with synchronous=FULL it returns only after fsync."""
    await asyncio.get_running_loop().run_in_executor(connection.worker(), connection.commit)


class InlineCursor(sqlite3.Cursor):
    """A sqlite3 cursor that runs inline or on its connection's worker thread (rows buffered)."""

    _buffered: deque[Any] | None = None  # rows fetched on the worker thread

    def _owner(self) -> Sqlite3Connection:
        connection = self.connection
        assert isinstance(connection, Sqlite3Connection)
        return connection

    def execute(self, sql: str, parameters: Any = (), /) -> InlineCursor:
        """Run a statement inline, or off the loop (with its rows) when it may take long."""
        owner = self._owner()
        self._buffered = None
        if sql in _WAITING_STATEMENTS:
            if parameters or not owner.lock_now(sql):
                # Taken by another connection: wait for it (busy_timeout) on the worker thread.
                _off_loop(owner.worker(), super().execute, sql, parameters)
        elif owner.inline:
            super().execute(sql, parameters)
        else:
            self._buffered = deque(_off_loop(owner.worker(), self._execute_all, sql, parameters))
        return self

    def _execute_all(self, sql: str, parameters: Any) -> list[Any]:
        super().execute(sql, parameters)
        return super().fetchall() if self.description is not None else []

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> InlineCursor:
        """Run a statement for many parameter sets, inline or off the loop like execute."""
        owner = self._owner()
        self._buffered = None
        if owner.inline:
            super().executemany(sql, seq_of_parameters)
        else:
            _off_loop(owner.worker(), super().executemany, sql, seq_of_parameters)
        return self

    def fetchone(self) -> Any:
        """The next row."""
        if self._buffered is None:
            return super().fetchone()
        return self._buffered.popleft() if self._buffered else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` rows (arraysize by default)."""
        if self._buffered is None:
            return super().fetchmany(self.arraysize if size is None else size)
        count = min(self.arraysize if size is None else size, len(self._buffered))
        return [self._buffered.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        if self._buffered is None:
            return super().fetchall()
        rows, self._buffered = list(self._buffered), deque()
        return rows

    def __iter__(self) -> InlineCursor:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async result hook: rows stay readable (buffered or inline)."""


class InlineConnection(AdaptedConnection):
    """The DBAPI connection SQLAlchemy sees: sqlite3, used from the event loop thread."""

    __slots__ = ("dbapi",)

    # A sync sqlite3 connection where the base class expects an asyncio driver's.
    _connection: Sqlite3Connection  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Sqlite3Connection) -> None:
        self.dbapi = dbapi
        self._connection = connection

    @property
    def inline(self) -> bool:
        """True while statements run on the event loop (the committer's write transactions)."""
        return self._connection.inline

    @inline.setter
    def inline(self, value: bool) -> None:
        self._connection.inline = value

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

    def terminate(self) -> None:
        """What the pool calls on an invalidated connection, or on one whose set-up was
        cancelled (a task cancelled mid-connect at shutdown): close it, after any statement
        still running on its worker thread."""
        self._connection.terminate()


class InlineSQLiteDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for SQLAlchemy's async SQLite dialect, backed by sqlite3 directly."""

    def __init__(self) -> None:
        # sqlite3 provides every name the dialect reads (exceptions, sqlite_version, Binary …).
        super().__init__(sqlite3, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> InlineConnection:  # type: ignore[override]
        """Open a sqlite3 connection usable from the loop thread and the worker thread."""
        kwargs.pop("async_creator_fn", None)
        # Used by one coroutine at a time (the pool hands a connection to one session), from the
        # loop thread and the worker thread, never both at once.
        kwargs["check_same_thread"] = False
        kwargs["factory"] = Sqlite3Connection
        connection = sqlite3.connect(*args, **kwargs)
        assert isinstance(connection, Sqlite3Connection)
        return InlineConnection(self, connection)


@asynccontextmanager
async def off_the_loop(session: AsyncSession) -> AsyncIterator[None]:
    """Run the session's statements on the worker thread inside the block (long statements
    in a write transaction, e.g. pruning the message log); a no-op on other databases."""
    connection = await session.connection()
    dbapi = (await connection.get_raw_connection()).dbapi_connection
    if not isinstance(dbapi, InlineConnection):
        yield
        return
    previous = dbapi.inline
    dbapi.inline = False
    try:
        yield
    finally:
        dbapi.inline = previous
