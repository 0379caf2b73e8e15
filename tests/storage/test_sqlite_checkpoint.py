"""WAL checkpoints run in the background (storage/sqlite_checkpoint.py), not inside a COMMIT."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from joule.storage.committer import GroupCommitter
from joule.storage.db import sqlite_path
from joule.storage.models import MessageLogEntry
from joule.storage.sqlite_checkpoint import WalCheckpointer
from joule.storage.uow import UnitOfWork


async def _write(committer: GroupCommitter, count: int, rows_each: int = 20) -> None:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    for batch in range(count):

        async def work(uow: UnitOfWork, batch: int = batch) -> None:
            rows = [
                {
                    "station_id": "CP-WAL",
                    "direction": "in",
                    "message_type": 2,
                    "message_id": f"{batch}-{i}",
                    "action": "MeterValues",
                    "frame": "x" * 1000,
                    "at": at,
                }
                for i in range(rows_each)
            ]
            uow.bulk_insert(MessageLogEntry, rows)

        await committer.run(work)


async def test_a_background_checkpoint_empties_the_wal(
    engine: AsyncEngine, committer: GroupCommitter
) -> None:
    path = sqlite_path(engine)
    if path is None:
        pytest.skip("SQLite only")
    await _write(committer, 10)
    assert (await asyncio.to_thread(Path(path + "-wal").stat)).st_size > 0
    checkpointer = WalCheckpointer(path, interval_s=0.05)
    await checkpointer.start()
    try:
        async with asyncio.timeout(60):  # a background run, whenever a loaded box gets to it
            while checkpointer.checkpoints < 1:
                await asyncio.sleep(0.05)
        busy, frames, done = checkpointer.checkpoint()
        # Every frame is in the database file now; no COMMIT had to do it.
        assert busy == 0 and frames == done
        await _write(committer, 2)  # writers carry on beside it
    finally:
        await checkpointer.stop()
    assert checkpointer.checkpoints >= 2


async def test_commits_do_not_checkpoint_below_the_safety_net(
    engine: AsyncEngine, committer: GroupCommitter
) -> None:
    """~6 MB of commits: SQLite's default (1 000 pages, 4 MiB) would have made one of them
    checkpoint and the WAL would start over; with the raised threshold it only grows."""
    path = sqlite_path(engine)
    if path is None:
        pytest.skip("SQLite only")
    await _write(committer, 60, rows_each=100)
    frames = WalCheckpointer(path).checkpoint()[1]
    assert frames > 1000
