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
# A routine exchange of these actions is logged at most once per this many seconds per station
# (ADR 0019). Last seen is kept for every frame. A Heartbeat or MeterValues flood would otherwise
# fill a station's bounded log with nothing else — at 10 s sampling a charging connector's meter
# values push its boots, status reports, transactions and commands out of a 1 000-row log in
# under 1.5 h — and the log's copy of a MeterValues is the costliest write of the message (two
# rows, 1.3 kB of frame: about half of SQLite's work for it, −6 % of Joule's CPU per message
# left out, T3) while its samples are stored as sent in its MeterValue rows (ADR 0015). An
# exchange answered by anything but a CALLRESULT, or whose frame needed a quirk repair, is always
# logged, CALL and answer.
QUIET_LOG_EVERY_S = 60.0
QUIET_ACTIONS = frozenset({"Heartbeat", "MeterValues"})
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


def _row(
    station_id: str,
    direction: str,
    message_type: int,
    message_id: str,
    action: str | None,
    text: str,
    at: datetime,
) -> tuple[Any, ...]:
    """A message-log row in MESSAGE_LOG_KEYS order: secrets masked, the frame bounded."""
    text = _masked(action, message_type, text)
    if len(text) > MAX_LOGGED_FRAME:
        text = text[:MAX_LOGGED_FRAME] + "…"
    return (station_id, direction, message_type, message_id[:64], action, text, at)


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
        # (station, action) → when a routine exchange of that action was last logged.
        self._quiet_logged: dict[tuple[str, str], datetime] = {}
        # station → its CALL held back (message id, action, text, time): the row is built only
        # if the answer is not routine.
        self._held: dict[str, tuple[str, str, str, datetime]] = {}
        self._task: asyncio.Task[None] | None = None

    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
        repaired: bool = False,
    ) -> None:
        """Record one frame (cheap: appends to a buffer). `repaired`: an answer to a CALL whose
        frame Joule had to repair (a tolerated quirk) — such an exchange is always logged."""
        now = self._clock.now()
        if direction == "in":
            self._seen[station_id] = now
        if self._limit <= 0:
            return
        held = self._held.pop(station_id, None) if self._held else None
        if held is not None:
            if message_type == 3 and not repaired and held[0] == message_id:
                return  # its routine answer: neither frame is logged
            # Answered by an error, repaired, or another frame came first: the CALL is logged,
            # in its place before this frame.
            self._rows.append(_row(station_id, "in", 2, *held))
        if (
            message_type == 2
            and direction == "in"
            and action in QUIET_ACTIONS
            and self._quiet(station_id, action, now)
        ):
            # Decided by its answer; the row is only built if it is logged after all.
            self._held[station_id] = (message_id, action, text, now)
            return
        self._rows.append(_row(station_id, direction, message_type, message_id, action, text, now))

    def _quiet(self, station_id: str, action: str, now: datetime) -> bool:
        """Whether a routine exchange of `action` now may stay out of the log (QUIET_LOG_EVERY_S).

        The station's CALL decides; the answer to a CALL left out follows the same decision
        unless it is an error or the frame needed repair.
        """
        key = (station_id, action)
        last = self._quiet_logged.get(key)
        if last is not None and 0 <= (now - last).total_seconds() < QUIET_LOG_EVERY_S:
            return True
        self._quiet_logged[key] = now
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
        # CALLs still held were never answered (the drain): the station resends them, log them.
        self._rows.extend(_row(station, "in", 2, *held) for station, held in self._held.items())
        self._held.clear()
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
