"""The alert evaluator at network scale: wall time, CPU and the event loop's longest stall.

An evaluation runs on the event loop that answers every station's frames, so what matters beside
its cost is how long it holds the loop (T5: Heartbeat p99 ≤ 5 ms). This builds a network of N
stations in a fresh database (real migrations, real evaluator, real group committer, the GC tuned
as `joule serve` tunes it) and measures one evaluation in four states:

- healthy: every station online and heard from (nothing to find);
- outage: every station offline for 20 min (N station_offline alerts raised);
- outage, next evaluation: the same N alerts known, nothing to change;
- recovery: every station back (N alerts resolved).

A 0.5 ms timer task stands for the stations: its longest wait is the loop's longest stall.

    .venv/bin/python benchmarks/alert_evaluation.py                     # SQLite, 10 000 stations
    .venv/bin/python benchmarks/alert_evaluation.py --stations 20000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/joule_alert_bench  # created, dropped
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from joule.bench.servers import FreshDatabase
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.kit.clock import FixedClock
from joule.kit.gc_tuning import tune_for_serving
from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory
from joule.storage.models import Station
from joule.storage.uow import UnitOfWork

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class LoopWatch:
    """A 0.5 ms timer task: how late it wakes is how long the loop was held."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.0005)
            now = time.perf_counter()
            self.gaps.append(now - last - 0.0005)
            last = now

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _stations(committer: GroupCommitter, count: int) -> None:
    rows = [
        {
            "id": f"AE-{n:06d}",
            "registration": "accepted",
            "ocpp_version": "1.6",
            "security_profile": 1,
            "min_security_profile": 0,
            "online": True,
            "last_seen": NOW - timedelta(seconds=30),
            "status": "Available",
            "quirks": {},
            "created_at": NOW - timedelta(days=1),
        }
        for n in range(count)
    ]
    for start in range(0, count, 2000):

        async def work(
            uow: UnitOfWork, part: list[dict[str, object]] = rows[start : start + 2000]
        ) -> None:
            await uow.session.execute(insert(Station), part)

        await committer.run(work)


async def _set_all(committer: GroupCommitter, *, online: bool, last_seen: datetime) -> None:
    async def work(uow: UnitOfWork) -> None:
        await uow.session.execute(update(Station).values(online=online, last_seen=last_seen))

    await committer.run(work)


async def measure(url: str, count: int) -> None:
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    committer = GroupCommitter(session_factory(engine))
    await committer.start()
    try:
        await _stations(committer, count)
        clock = FixedClock(NOW)
        evaluator = AlertEvaluator(committer, clock, interval_s=15, heartbeat_interval_s=300)
        await evaluator.evaluate()  # warm: statements compiled, uptime memo filled
        print(f"{count} stations, {engine.dialect.name}")
        head = ("changes", "wall ms", "cpu ms", "max stall ms", "stalls > 5 ms")
        print(f"{'state':28s} " + " ".join(f"{h:>13s}" for h in head))

        async def one(state: str) -> None:
            cpu, wall = time.process_time(), time.perf_counter()
            with LoopWatch() as watch:
                await asyncio.sleep(0.002)
                changes = await evaluator.evaluate()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            worst = max(watch.gaps, default=0.0)
            over = sum(gap > 0.005 for gap in watch.gaps)
            cells = (
                len(changes),
                f"{wall * 1000:.1f}",
                f"{cpu * 1000:.1f}",
                f"{worst * 1000:.1f}",
                over,
            )
            print(f"{state:28s} " + " ".join(f"{c:>13}" for c in cells))

        clock.set(NOW + timedelta(seconds=45))
        await _set_all(committer, online=True, last_seen=NOW + timedelta(seconds=40))
        await one("healthy")
        await _set_all(committer, online=False, last_seen=NOW + timedelta(seconds=40))
        clock.set(NOW + timedelta(minutes=21))
        await one("outage (raise all)")
        clock.set(NOW + timedelta(minutes=21, seconds=15))
        await one("outage, next evaluation")
        clock.set(NOW + timedelta(minutes=23))
        await one("outage, a minute on")
        await _set_all(committer, online=True, last_seen=NOW + timedelta(minutes=23))
        clock.set(NOW + timedelta(minutes=23, seconds=15))
        await one("recovery (resolve all)")
    finally:
        await committer.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL (created for the run, dropped after)")
    args = parser.parse_args()
    tune_for_serving(50_000)
    if args.database_url:
        with FreshDatabase(args.database_url) as db:
            asyncio.run(measure(db.url, args.stations))
        return
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(measure(f"sqlite:///{Path(scratch) / 'alerts.sqlite3'}", args.stations))


if __name__ == "__main__":
    main()
