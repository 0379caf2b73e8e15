"""Group commit: many units of work, one durable COMMIT (performance.md T3, T6, T10).

Callers hand over a unit of work and await its result; one writer task runs everything queued
since its last commit in a single transaction. No result is returned and no event published
before the COMMIT has returned, so nothing is acknowledged before it is durable (C16 §3.7.1,
E13.FR.02-04).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from joule.kit.pacing import Pacer
from joule.storage.db import QUICK_READ, WRITE_INTENT
from joule.storage.models import Base
from joule.storage.sqlite_inline import Sqlite3Connection, begin_immediate, commit
from joule.storage.uow import BatchLoader, UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork], Awaitable[T]]
OnCommitted = Callable[[list[object]], Awaitable[None]]
# Rows a unit of work will read, by model and primary key (or by a lean loader of
# uow.BatchLoader's shape and its keys): loaded for the whole batch at once.
Preload = Mapping[type[Base] | BatchLoader, Collection[Any]]

log = logging.getLogger(__name__)

# SQLSTATEs after which the same transaction may simply be tried again (Q21, steve#2107).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


# SQLite statements run inline on the event loop (sqlite_inline.py) and never suspend it, so a
# batch of hundreds of units would hold the loop for its whole run: every station's frames
# would wait (T5: p99 ≤ 5 ms). The writer hands the loop back between units (kit.pacing).


class CommitterClosed(RuntimeError):
    """The committer is not running (not started yet, or stopped)."""


def is_transient(error: BaseException, *, during_commit: bool = False) -> bool:
    """True for database errors that a retry of the same transaction can cure."""
    if isinstance(error, sqlite3.OperationalError):
        # Sent to sqlite3 directly, not through SQLAlchemy: BEGIN (db.py), inline_sql.py.
        return any(text in str(error).lower() for text in _SQLITE_BUSY)
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        # A connection lost during COMMIT leaves the outcome unknown: do not apply twice.
        return not during_commit
    orig: BaseException | None = error.orig
    while orig is not None:
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if any(text in str(orig).lower() for text in _SQLITE_BUSY):
            return True
        orig = orig.__cause__
    return False


@dataclass(eq=False)
class _Item(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T] = field(repr=False)
    preload: Preload | None = None


class _WorkFailed(Exception):
    """Item number `index` of an attempt raised on its own (not the flush or the COMMIT)."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


_STOP = object()


class GroupCommitter:
    """One writer task that commits queued units of work in batches."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 512,
        on_committed: OnCommitted | None = None,
        retries: int = 5,
        retry_backoff_s: float = 0.01,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._sessions = sessions
        self._max_batch = max_batch
        self._on_committed = on_committed
        self._retries = retries
        self._backoff_s = retry_backoff_s
        self._queue: asyncio.Queue[_Item[Any] | object] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._accepting = False
        self._held: _Held | None = None  # the writer's connection and session (ADR 0016)
        self.commits = 0  # transactions committed, for metrics

    @property
    def pending(self) -> int:
        """Units of work waiting for the writer."""
        return self._queue.qsize()

    async def start(self) -> None:
        """Start the writer task."""
        if self._writer is not None:
            raise RuntimeError("GroupCommitter already started")
        self._accepting = True
        self._writer = asyncio.create_task(self._write_loop(), name="joule-group-committer")

    async def stop(self, timeout: float | None = None) -> None:
        """Refuse new work, commit everything already queued, then end the writer.

        With a timeout, work still unfinished when it expires is abandoned (rolled back) and
        its callers get CommitterClosed: a shutdown must not hang on a stuck unit of work.
        """
        if self._writer is None:
            return
        if self._accepting:
            self._accepting = False
            self._queue.put_nowait(_STOP)
        done, _ = await asyncio.wait({self._writer}, timeout=timeout)
        if not done:
            self._writer.cancel()
            await asyncio.wait({self._writer})

    async def run(self, work: Work[T], *, preload: Preload | None = None) -> T:
        """Run a unit of work in the next batch; return its result once it is committed.

        `preload` names rows the work will get by primary key: the batch loads them all in one
        query per model instead of one query per unit (T3: 50 MeterValues, one SELECT).
        """
        if not self._accepting:
            raise CommitterClosed("GroupCommitter is not running")
        if asyncio.current_task() is self._writer:
            # The writer would wait for itself: a unit of work must not queue another.
            raise RuntimeError("run() called from inside a unit of work")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(work, future, preload))
        return await future

    async def read(self, work: Work[T], *, quick: bool = False) -> T:
        """Run a read-only unit of work in its own session, beside the writer; nothing is kept.

        `quick` marks a read of a few rows by key (the gateway's lookup per connect): on SQLite
        it runs inline on the event loop instead of hopping to a thread per statement (T8).
        """
        attempt = 0
        while True:
            try:
                # Closing the session rolls back: a read never keeps anything it wrote.
                async with self._sessions() as session:
                    if quick:
                        await session.connection(execution_options=QUICK_READ)
                    return await work(UnitOfWork(session))
            except Exception as error:
                if attempt >= self._retries or not is_transient(error):
                    raise
            await asyncio.sleep(self._backoff_s * 2**attempt)
            attempt += 1

    async def _write_loop(self) -> None:
        try:
            await self._write_batches()
        finally:
            await self._drop_writer()

    async def _write_batches(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch: list[_Item[Any]] = []
            if first is _STOP:
                stopping = True
            else:
                assert isinstance(first, _Item)
                batch.append(first)
            # Everything that queued while the last batch was committing joins this one.
            while not stopping and len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                else:
                    assert isinstance(item, _Item)
                    batch.append(item)
            live = [item for item in batch if not item.future.done()]  # caller gave up: skip
            try:
                await self._settle(live)
            except BaseException as error:
                # Only cancellation of the writer itself gets here; callers must not hang.
                for item in live:
                    if not item.future.done():
                        item.future.set_exception(CommitterClosed("writer cancelled"))
                self._accepting = False
                self._fail_queued()
                if isinstance(error, asyncio.CancelledError):
                    raise
                log.exception("group committer writer failed")
                return

    def _fail_queued(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Item) and not item.future.done():
                item.future.set_exception(CommitterClosed("GroupCommitter stopped"))

    async def _settle(self, items: list[_Item[Any]]) -> None:
        """Commit the items, isolating any that fail so the others are not lost."""
        if not items:
            return
        try:
            results, events = await self._attempt(items)
        except _WorkFailed as failed:
            if len(items) == 1:
                _fail(items[0], failed.error)
                return
            # Re-run around the culprit, in the original order; it gets its verdict alone,
            # after the items before it have committed, exactly as if run one by one.
            k = failed.index
            await self._settle(items[:k])
            await self._settle([items[k]])
            await self._settle(items[k + 1 :])
            return
        except Exception as error:
            if len(items) == 1 or is_transient(error):
                # Transient errors outlived every retry (splitting would only wait longer), or
                # the connection died during COMMIT and the outcome is unknown (re-running could
                # apply twice): every item fails and its station retries (E13.FR.02).
                for item in items:
                    _fail(item, error)
                return
            # The flush or COMMIT failed and no item is to blame yet: halve until found.
            middle = len(items) // 2
            await self._settle(items[:middle])
            await self._settle(items[middle:])
            return
        for item, result in zip(items, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)
        if self._on_committed is not None and events:
            try:
                await self._on_committed(events)
            except Exception:
                # The data is durable and answered; a failing subscriber must not undo that.
                log.exception("on_committed failed for %d events", len(events))

    async def _attempt(self, items: list[_Item[Any]]) -> tuple[list[Any], list[object]]:
        """Run items in one transaction and commit, retrying transient errors with back-off."""
        attempt = 0
        while True:
            state = _Attempt()
            try:
                results, uow = await self._on_writer(await self._writer_connection(), items, state)
                self.commits += 1
                return results, uow.events
            except _WorkFailed:
                raise
            except Exception as error:
                if attempt >= self._retries or not is_transient(
                    error, during_commit=state.during_commit
                ):
                    raise
                log.warning(
                    "transient database error, retrying batch of %d (attempt %d): %s",
                    len(items),
                    attempt + 1,
                    error,
                )
                await asyncio.sleep(self._backoff_s * 2**attempt)
                attempt += 1

    async def _writer_connection(self) -> _Held:
        """The writer's connection and session, kept across batches (ADR 0016).

        A pool checkout (a pre-ping round trip on PostgreSQL), a new session and, on SQLite,
        SQLAlchemy's begin/commit cost ~0.5–0.7 ms of CPU a batch against a few µs of SQL: at
        500 MeterValues/s (T6) batches hold one to three units, and that was most of the CPU.
        """
        if self._held is not None:
            return self._held
        engine: AsyncEngine = self._sessions.kw["bind"]
        owner = await engine.connect()
        # Every transaction on it is a write: on SQLite db.py's begin hook then runs BEGIN
        # IMMEDIATE (the first one, through SQLAlchemy) and marks the connection inline.
        await owner.execution_options(**WRITE_INTENT)
        session = self._sessions(bind=owner)
        try:
            await session.connection()  # the session's first transaction, on `owner`
            raw = (await owner.get_raw_connection()).driver_connection
        except BaseException:
            await session.close()
            await owner.close()
            raise
        sqlite = raw if isinstance(raw, Sqlite3Connection) else None
        self._held = _Held(owner, session, sqlite)
        return self._held

    async def _on_writer(
        self, held: _Held, items: list[_Item[Any]], state: _Attempt
    ) -> tuple[list[Any], UnitOfWork]:
        """One batch: begin, the units, flush, COMMIT; then the session is emptied.

        On SQLite BEGIN IMMEDIATE and COMMIT go to sqlite3 itself (~20 µs against ~0.5 ms
        through SQLAlchemy); the COMMIT still runs on the worker thread and returns after fsync.
        On PostgreSQL the session commits through SQLAlchemy on the kept connection. Whatever
        fails drops the writer (rolled back, closed): the next attempt starts from a new one,
        so a connection lost between batches costs one transient retry.
        """
        try:
            if held.sqlite is not None:
                await begin_immediate(held.sqlite)
                connection = held.owner  # what session.connection() returns, without the call
            else:
                connection = await held.session.connection()
            uow = UnitOfWork(held.session, connection)
            results = await _run_items(uow, items)
            state.during_commit = True
            if held.sqlite is not None:
                await commit(held.sqlite)
            else:
                await held.session.commit()
        except BaseException:
            await self._drop_writer()
            raise
        # The next batch starts clean, as in a new session: no object, no per-batch note kept.
        held.session.expunge_all()
        held.session.info.clear()
        return results, uow

    async def _drop_writer(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if held.sqlite is not None and held.sqlite.in_transaction:
                held.sqlite.rollback()
            await held.session.close()
            await held.owner.close()
        except Exception:
            # Dropped after a failure (often a lost connection): the pool discards what is
            # broken; the failure itself is what the batch reports.
            log.warning("closing the writer connection failed", exc_info=True)


@dataclass(slots=True)
class _Attempt:
    during_commit: bool = False


@dataclass(frozen=True, slots=True)
class _Held:
    owner: AsyncConnection  # checked out of the pool for the committer's life
    session: AsyncSession  # bound to it
    sqlite: Sqlite3Connection | None  # the driver connection, on SQLite


async def _run_items(uow: UnitOfWork, items: list[_Item[Any]]) -> list[Any]:
    """Preload for the batch, run every unit in order (pacing the loop), flush."""
    await _preload(uow, items)
    results: list[Any] = []
    pace = Pacer()
    for index, item in enumerate(items):
        try:
            results.append(await item.work(uow))
        except Exception as error:
            if is_transient(error):
                raise
            raise _WorkFailed(index, error) from error
        await pace()
    await uow.flush(pace)
    return results


async def _preload(uow: UnitOfWork, items: list[_Item[Any]]) -> None:
    wanted: dict[type[Base] | BatchLoader, set[Any]] = {}
    for item in items:
        if item.preload:
            for model, keys in item.preload.items():
                wanted.setdefault(model, set()).update(keys)
    for model, keys in wanted.items():
        if isinstance(model, type):
            await uow.preload(model, keys)
        else:
            await model(uow, keys)


def _fail(item: _Item[Any], error: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(error)
