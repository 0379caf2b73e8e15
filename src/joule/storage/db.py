"""Engine and session factory: SQLite (default, embedded) or PostgreSQL, always async."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from joule.storage.sqlite_inline import InlineConnection, InlineSQLiteDBAPI

# Execution option a writer sets on its connection before the transaction begins. On SQLite it
# turns the BEGIN into BEGIN IMMEDIATE: the write lock is taken up front, where busy_timeout
# applies, instead of failing with SQLITE_BUSY when a read snapshot is upgraded mid-transaction.
WRITE_INTENT: dict[str, Any] = {"joule_write_intent": True}
# Execution option of a short read by key: on SQLite its statements run inline on the event loop
# (a read transaction in WAL mode never waits for a lock); other reads hop to a worker thread.
QUICK_READ: dict[str, Any] = {"joule_quick_read": True}

# How long a SQLite connection waits for another process's write lock before "database is locked"
# (Q21: a burst must queue, not surface errors to stations).
SQLITE_BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}


def async_url(database_url: str) -> URL:
    """Return the async-driver URL for a contract URL (sqlite:///…, postgresql://…)."""
    url = make_url(database_url)
    backend = _ALIASES.get(url.get_backend_name(), url.get_backend_name())
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    if "+" not in url.drivername:
        url = url.set(drivername=_DRIVERS[backend])
    elif backend != url.get_backend_name():
        url = url.set(drivername=f"{backend}+{url.get_driver_name()}")
    if backend == "sqlite" and _is_memory(url):
        # Every pooled connection would see its own empty database, and the committer's
        # writer and readers use different connections: nothing would be durable or shared.
        raise ValueError(
            "in-memory SQLite is not supported; give a file, e.g. sqlite:///./joule.db"
        )
    if url.get_driver_name() == "asyncpg" and "sslmode" in url.query and "ssl" not in url.query:
        # libpq spells it sslmode; asyncpg takes the same values as `ssl`.
        url = url.update_query_dict({"ssl": url.query["sslmode"]}).difference_update_query(
            ["sslmode"]
        )
    return url


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database == "" or ":memory:" in database or url.query.get("mode") == "memory"


def create_engine(
    database_url: str, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> AsyncEngine:
    """Create the async engine for a database URL, with Joule's durability settings."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        # sqlite3 inline on the loop, lock waits and fsync on a thread (sqlite_inline.py).
        engine = create_async_engine(url, module=InlineSQLiteDBAPI())
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    # pre_ping: a PostgreSQL restart must not fail the first message after it (scenario 3).
    return create_async_engine(url, pool_pre_ping=True)


SQLITE_CACHE_KIB = 32 * 1024  # per connection, filled lazily
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SQLITE_AUTOCHECKPOINT_PAGES = 16_000  # ~64 MiB of WAL before a COMMIT checkpoints by itself


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # sqlite3 only begins transactions before DML; take over BEGIN so reads inside a unit of
        # work see one snapshot and DDL is transactional (SQLAlchemy "sqlite_transactions").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
            # WAL: readers never block the writer. synchronous=FULL: a COMMIT returns only once
            # the WAL is fsynced, so no CALLRESULT is sent before the data is durable (C16 §3.7.1).
            _ensure_wal(cursor, busy_timeout_ms)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # SQLite's default page cache is 2 MiB: the meter-value indexes of a busy network
            # outgrow it within minutes and every insert then reads B-tree pages through a
            # syscall (T3). A bigger cache and memory-mapped reads keep them in the process.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB:d}")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES:d}")
            cursor.execute("PRAGMA temp_store=MEMORY")
            # Checkpoints run in the background (sqlite_checkpoint.py); this is the safety net.
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES:d}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        immediate = options.get("joule_write_intent", False)
        dbapi = connection.connection.dbapi_connection
        if isinstance(dbapi, InlineConnection):
            # The committer's write transactions (small statements, lock held) and quick reads
            # by key run inline; every other transaction runs on the connection's worker thread.
            dbapi.inline = bool(immediate or options.get("joule_quick_read", False))
            # On the DBAPI cursor, not exec_driver_sql: one BEGIN per batch through SQLAlchemy's
            # statement machinery cost ~30 µs (ADR 0006 addendum); the cursor still tries a
            # contended BEGIN IMMEDIATE inline first and waits for the lock on the worker thread.
            dbapi.cursor().execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _ensure_wal(cursor: Any, busy_timeout_ms: int) -> None:
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return  # WAL is a property of the file: set once, by whoever connected first
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            mode = str(cursor.fetchone()[0]).lower()
            break
        except sqlite3.OperationalError as error:
            # Two connections converting a brand-new file at once: SQLite refuses one of them
            # without calling the busy handler (it would deadlock); the other finishes quickly.
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    if mode != "wal":
        log.warning("SQLite kept journal_mode=%s (no WAL on this file system)", mode)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (results outlive the unit of work)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def sqlite_path(engine: AsyncEngine) -> str | None:
    """The database file of a SQLite engine, or None for any other database."""
    if engine.dialect.name != "sqlite":
        return None
    return engine.url.database or None


def is_sqlite(engine: AsyncEngine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"
