"""WAL checkpoints in the background, so a station's COMMIT never pays for one (T6).

SQLite checkpoints the WAL into the database file inside whichever COMMIT pushes the WAL past
`wal_autocheckpoint` pages (1 000 by default): that COMMIT copies megabytes and fsyncs the main
file before it returns, and every CALLRESULT of its batch waits (a p99 of tens of milliseconds
at 500 MeterValues/s). Here a PASSIVE checkpoint runs every second on its own connection and
thread: it never blocks the writer or readers (it copies what no reader still needs), so the WAL
stays small and commits stay an append plus one fsync. The connection-level auto-checkpoint is
raised to a safety net (db.py) for when this task is not running (tools, tests, a stalled loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 1.0


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on a file every interval, off the event loop."""

    def __init__(self, path: str, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self._path = path
        self._interval_s = interval_s
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one checkpoint at a time on the one connection
        self._task: asyncio.Task[None] | None = None
        self.checkpoints = 0  # completed runs, for tests and metrics

    async def start(self) -> None:
        """Start checkpointing in the background."""
        self._task = asyncio.create_task(self._loop(), name="sqlite-wal-checkpoint")

    async def stop(self) -> None:
        """Stop, then run one last checkpoint and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(sqlite3.Error):
            await asyncio.to_thread(self.checkpoint)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames checkpointed), as SQLite says."""
        with self._lock:
            if self._connection is None:
                # Autocommit; a short busy timeout: PASSIVE never waits for writers anyway.
                self._connection = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False, timeout=1.0
                )
            row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return int(row[0]), int(row[1]), int(row[2])

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await asyncio.to_thread(self.checkpoint)
            except sqlite3.Error as error:
                # A locked or briefly unavailable file: the next round (or the safety net) does it.
                log.warning("WAL checkpoint skipped: %s", error)
