"""Connection activity kept off the durable hot path: message log and last seen, batched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from joule.domain.command.service import redacted
from joule.domain.command.translate import Request
from joule.kit.clock import Clock
from joule.storage.committer import GroupCommitter
from joule.storage.repositories.activity import append_message_log, prune_message_log
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_LOGGED_FRAME = 8192  # characters of a frame kept in the log
# A Heartbeat and its answer are logged at most once per this many seconds per station. Last seen
# is kept for every frame; a logged heartbeat shows the station's cadence; a station heartbeating
# faster than this (misconfigured, or a flood) would otherwise fill its bounded log with nothing
# else and cost two rows per message (T2: ~15 % of a Heartbeat's CPU).
HEARTBEAT_LOG_EVERY_S = 60.0
_HEARTBEAT = "Heartbeat"
_TOUCH_CHUNK = 100  # last-seen updates per unit of work (inline on SQLite: ~1–2 ms each)
_LOG_CHUNK = 100  # message-log rows per unit of work
_PRUNE_CHUNK = 50  # stations per message-log prune unit
# CSMS CALLs that can carry a new station password (A01.FR.08: never kept in clear).
_SECRET_CARRIERS = frozenset({"ChangeConfiguration", "SetVariables"})


def _masked(action: str | None, message_type: int, text: str) -> str:
    """The frame as it may be logged: station passwords masked."""
    if message_type != 2 or action not in _SECRET_CARRIERS:
        return text
    try:
        frame = orjson.loads(text)
        frame[3] = redacted(Request(action, frame[3]))
        return orjson.dumps(frame).decode()
    except (orjson.JSONDecodeError, IndexError, TypeError, AttributeError):
        return "[unreadable frame withheld]"


class ActivityRecorder:
    """Buffers frames for the bounded per-station message log and last-seen times."""

    def __init__(
        self,
        committer: GroupCommitter,
        clock: Clock,
        *,
        touch_last_seen: Any,
        log_limit: int,
        flush_interval_s: float = 0.5,
        prune_interval_s: float = 60.0,
    ) -> None:
        self._committer = committer
        self._clock = clock
        self._touch = touch_last_seen
        self._limit = log_limit
        self._flush_interval = flush_interval_s
        self._prune_interval = prune_interval_s
        self._rows: list[tuple[Any, ...]] = []
        self._seen: dict[str, datetime] = {}
        # Rows logged per station since its last prune. A station is pruned once it has logged
        # a tenth of its bound since: a boot storm's stations (a handful of rows each) cost the
        # writer nothing every minute after it, and a log holds at most limit + limit/10 rows.
        self._logged: Counter[str] = Counter()
        self._slack = max(1, log_limit // 10)
        self._heartbeat_logged: dict[str, datetime] = {}  # station → last heartbeat logged
        self._heartbeat_skipped: set[str] = set()  # stations whose current heartbeat was not
        self._task: asyncio.Task[None] | None = None

    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
    ) -> None:
        """Record one frame (cheap: appends to a buffer)."""
        now = self._clock.now()
        if direction == "in":
            self._seen[station_id] = now
        if self._limit <= 0:
            return
        if action == _HEARTBEAT and self._heartbeat_quiet(station_id, message_type, now):
            return
        text = _masked(action, message_type, text)
        # A row in MESSAGE_LOG_KEYS order.
        self._rows.append(
            (
                station_id,
                direction,
                message_type,
                message_id[:64],
                action,
                text if len(text) <= MAX_LOGGED_FRAME else text[:MAX_LOGGED_FRAME] + "…",
                now,
            )
        )

    def _heartbeat_quiet(self, station_id: str, message_type: int, now: datetime) -> bool:
        """Whether this Heartbeat frame stays out of the log (see HEARTBEAT_LOG_EVERY_S).

        The station's CALL decides; our CALLRESULT to it follows the same decision, so the log
        never holds a heartbeat answer without its CALL.
        """
        if message_type != 2:
            return station_id in self._heartbeat_skipped
        last = self._heartbeat_logged.get(station_id)
        if last is not None and 0 <= (now - last).total_seconds() < HEARTBEAT_LOG_EVERY_S:
            self._heartbeat_skipped.add(station_id)
            return True
        self._heartbeat_logged[station_id] = now
        self._heartbeat_skipped.discard(station_id)
        return False

    async def start(self) -> None:
        """Start the background flusher."""
        self._task = asyncio.create_task(self._loop(), name="activity-flusher")

    async def stop(self) -> None:
        """Flush what is buffered and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        """Write buffered rows and last-seen times, in small units of work one after another.

        Each unit joins a group commit beside stations' messages: small ones keep any batch
        from waiting behind half a second of log rows at once (T6), and SQLite, which runs
        inline on the event loop, from holding it for tens of milliseconds (T5).
        """
        rows, self._rows = self._rows, []
        seen, self._seen = self._seen, {}
        self._logged.update(row[0] for row in rows)  # Counter: adds the counts (station ids)
        for start in range(0, len(rows), _LOG_CHUNK):
            chunk = rows[start : start + _LOG_CHUNK]

            async def append(uow: UnitOfWork, chunk: list[tuple[Any, ...]] = chunk) -> None:
                append_message_log(uow, chunk)

            await self._run(append, f"write {len(chunk)} message-log rows")
        items = sorted(seen.items())
        for start in range(0, len(items), _TOUCH_CHUNK):
            touched = dict(items[start : start + _TOUCH_CHUNK])

            async def touch(uow: UnitOfWork, touched: dict[str, datetime] = touched) -> None:
                await self._touch(uow.session, touched)

            await self._run(touch, f"update last seen of {len(touched)} stations")

    async def prune(self) -> None:
        """Trim to its bound the log of every station that logged a tenth of it since its last
        prune (the others keep counting)."""
        stations = sorted(s for s, n in self._logged.items() if n >= self._slack)
        for station_id in stations:
            del self._logged[station_id]
        for start in range(0, len(stations), _PRUNE_CHUNK):
            chunk = stations[start : start + _PRUNE_CHUNK]

            async def prune(uow: UnitOfWork, chunk: list[str] = chunk) -> None:
                await prune_message_log(uow.session, self._limit, chunk)

            await self._run(prune, f"prune the message log of {len(chunk)} stations")

    async def _run(self, work: Callable[[UnitOfWork], Awaitable[None]], what: str) -> None:
        try:
            await self._committer.run(work)
        except Exception:
            log.exception("could not %s", what)

    async def _loop(self) -> None:
        since_prune = 0.0
        while True:
            await asyncio.sleep(self._flush_interval)
            await self.flush()
            since_prune += self._flush_interval
            if since_prune >= self._prune_interval and self._limit > 0:
                since_prune = 0.0
                await self.prune()
