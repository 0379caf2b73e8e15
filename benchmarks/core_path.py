"""Joule's core path in one process, without sockets: CPU µs per message, optionally profiled.

The station → CSMS path from the bus on (dispatcher → handler → group commit → events) is what
T2/T3/T7 spend beyond the raw WebSocket server. This drives a real `Joule` (real database,
migrations, monitoring, local lists) through `bus.dispatch` with the frames `joule bench` sends,
in concurrent waves as a busy gateway would, and prints CPU µs per message — repeatable enough
to compare two commits on a shared box (process time, not wall time).

    .venv/bin/python benchmarks/core_path.py                       # SQLite, 300 stations
    .venv/bin/python benchmarks/core_path.py --profile /tmp/mv.prof --only MeterValues
    .venv/bin/python benchmarks/core_path.py --database-url postgresql://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from joule.bench import payloads
from joule.bus.envelopes import StationCall
from joule.config import Settings
from joule.domain.registry.tokens import create_token
from joule.kit.gc_tuning import tune_for_serving
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.runtime import Joule, StationDirectoryAdapter
from joule.storage.uow import UnitOfWork

V16 = OcppVersion.V16
_ids = itertools.count()


def _call(station: str, frame: bytes) -> StationCall:
    """The envelope the gateway builds for a frame (validated as the gateway does)."""
    _, message_id, action, payload = orjson.loads(frame)
    validate(V16, action, "request", payload)
    return StationCall(
        station_id=station,
        version=V16,
        message_id=message_id,
        action=action,
        payload=payload,
        received_at=payloads_now(),
    )


def payloads_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


WAVE = 0  # messages dispatched at once (0: a whole round; 1: one at a time, a batch each)


async def _wave(joule: Joule, calls: list[StationCall]) -> list[dict[str, Any]]:
    assert joule.bus is not None
    bus = joule.bus
    if WAVE <= 0:
        return await asyncio.gather(*(bus.dispatch(call) for call in calls))
    answers: list[dict[str, Any]] = []
    for start in range(0, len(calls), WAVE):
        answers += await asyncio.gather(*(bus.dispatch(c) for c in calls[start : start + WAVE]))
    return answers


async def _measure(
    label: str,
    rounds: int,
    make: Callable[[int], list[StationCall]],
    run: Callable[[list[StationCall]], Awaitable[object]],
    profiler: cProfile.Profile | None,
) -> None:
    count = 0
    cpu = 0.0
    best = float("inf")  # the quietest round: neighbours on a shared box only ever add time
    for round_no in range(rounds):
        calls = make(round_no)
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        await run(calls)
        if profiler is not None:
            profiler.disable()
        spent = time.process_time() - started
        cpu += spent
        count += len(calls)
        best = min(best, spent / len(calls))
    print(
        f"{label:28s} {count:7d} msgs  {cpu / count * 1e6:8.1f} µs CPU per message "
        f"(best round {best * 1e6:.1f})",
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'core.db'}"
        joule = Joule(
            Settings(
                host="127.0.0.1",
                http_port=0,
                ocpp_port=0,
                database_url=url,
                unknown_stations="accept",
                jwt_secret="core-path-core-path-core-path-core",
                log_level="WARNING",
                local_lists_auto=not args.no_local_lists,
            )
        )
        await joule.start()
        tune_for_serving(joule.settings.gc_gen0_threshold)  # as `joule serve` does
        try:
            await _run(joule, args)
            await asyncio.sleep(args.linger)
        finally:
            await joule.stop()


async def _run(joule: Joule, args: argparse.Namespace) -> None:
    assert joule.committer is not None
    stations = [f"CORE{index:05d}" for index in range(args.stations)]
    directory = StationDirectoryAdapter(joule.committer, joule.clock, joule.node)
    for station in stations:
        await directory.register_unknown(station, accept=True)

    async def token(uow: UnitOfWork) -> None:
        await create_token(
            uow.session, uid=payloads.ID_TAG, max_concurrent=100_000, at=joule.clock.now()
        )

    await joule.committer.run(token)
    # process time, not wall time: a profile of CPU (fsync waits are not work)
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    only = set(args.only or ())

    def want(name: str) -> bool:
        return not only or name in only

    def wave(frame: Callable[[str], bytes]) -> Callable[[int], list[StationCall]]:
        return lambda _: [_call(s, frame(f"m{next(_ids)}")) for s in stations]

    async def run(calls: list[StationCall]) -> object:
        return await _wave(joule, calls)

    await _measure(
        "BootNotification",
        1,
        wave(payloads.boot_notification),
        run,
        profiler if want("BootNotification") else None,
    )
    await _measure(
        "StatusNotification",
        2,
        lambda r: [
            _call(s, payloads.status_notification(f"m{next(_ids)}", r + 1)) for s in stations
        ],
        run,
        profiler if want("StatusNotification") else None,
    )
    await _measure(
        "Heartbeat",
        args.rounds,
        wave(payloads.heartbeat),
        run,
        profiler if want("Heartbeat") else None,
    )
    started = await _wave(
        joule, [_call(s, payloads.start_transaction(f"m{next(_ids)}", 1000)) for s in stations]
    )
    tx_ids = [int(answer["transactionId"]) for answer in started]
    register = itertools.count(2000, 7)
    await _measure(
        "MeterValues (10 samples)",
        args.rounds,
        lambda _: [
            _call(s, payloads.meter_values(f"m{next(_ids)}", tx, next(register)))
            for s, tx in zip(stations, tx_ids, strict=True)
        ],
        run,
        profiler if want("MeterValues") else None,
    )
    if profiler is not None:
        profiler.dump_stats(args.profile)
        print(f"profile written to {args.profile}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--linger", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--wave", type=int, default=0, help="dispatch N at a time (1: a group commit each)"
    )
    parser.add_argument("--no-local-lists", action="store_true")
    parser.add_argument("--profile", help="write cProfile stats of the measured waves here")
    parser.add_argument("--only", action="append", help="profile only this action (repeatable)")
    arguments = parser.parse_args()
    WAVE = arguments.wave
    asyncio.run(main(arguments))
