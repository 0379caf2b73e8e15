"""SQLite without a thread hop per statement (sqlite_inline.py): lock waits stay off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from joule.storage.committer import GroupCommitter
from joule.storage.db import WRITE_INTENT, is_sqlite
from joule.storage.models import Setting
from joule.storage.sqlite_inline import Sqlite3Connection, off_the_loop
from joule.storage.uow import UnitOfWork


@pytest.fixture
def sqlite_only(engine: AsyncEngine) -> None:
    if not is_sqlite(engine):
        pytest.skip("the inline driver is SQLite's")


@pytest.mark.usefixtures("sqlite_only")
async def test_write_transactions_run_inline_everything_else_off_the_loop(
    engine: AsyncEngine,
) -> None:
    threads: list[int] = []

    @event.listens_for(engine.sync_engine, "connect")
    def register(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.create_function(  # type: ignore[attr-defined]
            "whose_thread", 0, lambda: threads.append(threading.get_ident()) or 1
        )

    loop_thread = threading.get_ident()
    async with engine.connect() as connection:
        # AsyncConnection.execute demands that the driver awaited: the cursor does.
        assert (await connection.execute(text("SELECT whose_thread()"))).scalar() == 1
    async with engine.connect() as connection:
        await connection.execution_options(**WRITE_INTENT)
        async with connection.begin():
            assert (await connection.execute(text("SELECT whose_thread()"))).scalar() == 1
    read, write = threads
    assert read != loop_thread  # a read (API, lookup) never stalls the loop
    assert write == loop_thread  # the committer's writes skip the thread hop


@pytest.mark.usefixtures("sqlite_only")
async def test_off_the_loop_moves_a_long_statement_of_a_write_transaction(
    engine: AsyncEngine,
) -> None:
    threads: list[int] = []

    @event.listens_for(engine.sync_engine, "connect")
    def register(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.create_function(  # type: ignore[attr-defined]
            "whose_thread", 0, lambda: threads.append(threading.get_ident()) or 1
        )

    async with AsyncSession(engine) as session:
        await session.connection(execution_options=WRITE_INTENT)
        async with off_the_loop(session):
            rows = (await session.execute(text("SELECT whose_thread() UNION ALL SELECT 2"))).all()
        await session.execute(text("SELECT whose_thread()"))
    assert sorted(row[0] for row in rows) == [1, 2]  # rows fetched on the thread, all of them
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()


@dataclass
class Traced:
    """The statements SQLite ran on the engine's connections, with the thread that ran each."""

    statements: list[tuple[str, int]] = field(default_factory=list)
    connections: list[sqlite3.Connection] = field(default_factory=list)
    # Set when a BEGIN IMMEDIATE starts on the event loop's thread: a writer has reached the
    # lock (however slowly a loaded box got it there) and, if refused, now waits off the loop.
    tried_lock: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
def traced(engine: AsyncEngine) -> Traced:
    traced = Traced()
    loop_thread = threading.get_ident()

    @event.listens_for(engine.sync_engine, "connect")
    def trace(dbapi_connection: object, _record: object) -> None:
        connection = dbapi_connection._connection  # type: ignore[attr-defined]
        traced.connections.append(connection)

        def statement(sql: str) -> None:
            thread = threading.get_ident()
            traced.statements.append((sql, thread))
            if sql == "BEGIN IMMEDIATE" and thread == loop_thread:
                traced.tried_lock.set()

        connection.set_trace_callback(statement)

    return traced


async def write_setting(engine: AsyncEngine, key: str) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(**WRITE_INTENT)
        async with connection.begin():
            await connection.execute(
                Setting.__table__.insert().values(key=key, value="v")  # type: ignore[attr-defined]
            )


@pytest.mark.usefixtures("sqlite_only")
async def test_begin_immediate_waits_for_a_lock_without_blocking_the_loop(
    engine: AsyncEngine, database_url: str, traced: Traced
) -> None:
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks_while_waiting = 0

    async def tick() -> None:
        nonlocal ticks_while_waiting
        while True:
            await asyncio.sleep(0.01)
            ticks_while_waiting += traced.tried_lock.is_set()

    ticker = asyncio.ensure_future(tick())
    writer = asyncio.ensure_future(write_setting(engine, "inline"))
    # No wall-clock bound (CI's two suites share two cores): a BEGIN IMMEDIATE that waited on
    # the loop would hold it until busy_timeout (5 s, Q21) ends the writer with "locked", before
    # any tick could run. So: ten ticks after the writer reached its BEGIN, with it still waiting.
    async with asyncio.timeout(60):
        while ticks_while_waiting < 10:
            assert not writer.done(), writer
            await asyncio.sleep(0.01)
    assert not writer.done()
    other.execute("COMMIT")
    other.close()
    await writer
    ticker.cancel()
    async with engine.connect() as connection:
        found = await connection.execute(select(Setting.value).where(Setting.key == "inline"))
        assert found.scalar() == "v"


@pytest.mark.usefixtures("sqlite_only")
async def test_an_uncontended_begin_immediate_takes_the_lock_inline(
    engine: AsyncEngine, database_url: str, traced: Traced
) -> None:
    statements, raw = traced.statements, traced.connections
    await write_setting(engine, "free")
    begins = [thread for sql, thread in statements if sql == "BEGIN IMMEDIATE"]
    assert begins == [threading.get_ident()]  # on the loop: no thread hop when the lock is free
    # ... and busy_timeout is back for everything else (Q21: other writers wait, not fail).
    assert raw[0].execute("PRAGMA busy_timeout").fetchone() == (5000,)

    statements.clear()
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    traced.tried_lock.clear()
    writer = asyncio.ensure_future(write_setting(engine, "contended"))
    await asyncio.wait_for(traced.tried_lock.wait(), 60)
    # The BEGIN tried inline, was refused and went to the worker thread: it waits there now.
    await asyncio.sleep(0.2)
    other.execute("COMMIT")
    other.close()
    await writer
    begins = [thread for sql, thread in statements if sql == "BEGIN IMMEDIATE"]
    # Tried inline without waiting (refused), then waited for the lock on the worker thread.
    assert begins[0] == threading.get_ident() and begins[-1] != threading.get_ident(), begins
    assert raw[0].execute("PRAGMA busy_timeout").fetchone() == (5000,)


@pytest.mark.usefixtures("sqlite_only")
async def test_committed_work_is_visible_to_a_fresh_connection(
    committer: GroupCommitter, database_url: str
) -> None:
    async def put(uow: UnitOfWork) -> None:
        uow.session.add(Setting(key="durable", value="yes"))

    await committer.run(put)
    check = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        assert check.execute("SELECT value FROM settings WHERE key = 'durable'").fetchone() == (
            "yes",
        )
    finally:
        check.close()


@pytest.mark.usefixtures("sqlite_only")
async def test_quick_reads_run_inline(engine: AsyncEngine, committer: GroupCommitter) -> None:
    threads: list[int] = []

    @event.listens_for(engine.sync_engine, "connect")
    def register(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.create_function(  # type: ignore[attr-defined]
            "whose_thread", 0, lambda: threads.append(threading.get_ident()) or 1
        )

    async def read(uow: UnitOfWork) -> int:
        return int((await uow.session.execute(text("SELECT whose_thread()"))).scalar_one())

    assert await committer.read(read, quick=True) == 1
    assert await committer.read(read) == 1
    quick, other = threads
    assert quick == threading.get_ident() and other != quick


@pytest.mark.usefixtures("sqlite_only")
async def test_an_invalidated_connection_is_terminated_cleanly(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # The pool terminates a connection it invalidates, or one whose connect was cancelled at
    # shutdown (CI saw "'InlineConnection' object has no attribute 'terminate'" logged).
    raw: list[Sqlite3Connection] = []

    @event.listens_for(engine.sync_engine, "connect")
    def keep(dbapi_connection: object, _record: object) -> None:
        raw.append(dbapi_connection._connection)  # type: ignore[attr-defined]

    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # off the loop: the worker thread exists
        worker = raw[0].worker()
        await connection.invalidate()
    # The close runs on the worker thread, after what it was running. Wait for that thread to
    # finish (never touch the connection meanwhile: sqlite3 must not be used from two threads
    # while one closes it — CI's first version of this test polled it and crashed the process).
    await asyncio.wait_for(asyncio.to_thread(worker.shutdown, wait=True), 60)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        raw[0].execute("SELECT 1")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    async with engine.connect() as connection:  # the pool opens a fresh one
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
