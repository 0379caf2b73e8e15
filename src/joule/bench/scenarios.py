"""One measurement of one server: the scenarios behind targets T1–T8 (performance.md §3).

Every scenario connects its own stations, measures, and closes them again, so each starts from
the same state. Server CPU comes from /proc (process tree), wall-clock from time.monotonic.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from joule.bench.generator import LoadGenerator, merge
from joule.bench.loadgen import (
    CloseAll,
    ClosedLoop,
    Connect,
    OpenLoop,
    Outcome,
    StartTransactions,
)
from joule.bench.servers import ServerProcess

Metrics = dict[str, float | int | None]


@dataclass
class Phase:
    """What one scenario measured on one server."""

    server: str
    scenario: str
    metrics: Metrics
    errors: dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def settle(server: ServerProcess, *, step_s: float = 0.25, limit_s: float = 20.0) -> float:
    """Wait until the server is idle (< 10 % of a core over a step); return its CPU seconds then.

    Work a storm leaves behind (presence writes, the message-log flush) belongs to the storm.
    """
    last = server.cpu()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(step_s)
        now = server.cpu()
        if now - last <= step_s * 0.1:
            return now
        last = now
    return last


def _connect(
    gen: LoadGenerator, server: ServerProcess, ids: Sequence[str], in_flight: int, **kw: object
) -> Outcome:
    share = max(1, in_flight // gen.size)
    commands = [
        Connect(server.ocpp_url, part, share, **kw)  # type: ignore[arg-type]
        for part in gen.split(ids)
    ]
    return gen.run(commands)


def _close(gen: LoadGenerator, server: ServerProcess) -> None:
    gen.broadcast(CloseAll())
    settle(server)


def _ms(value: float | None) -> float | None:
    return round(value * 1000, 3) if value is not None else None


def idle_connections(
    gen: LoadGenerator, server: ServerProcess, ids: Sequence[str], *, in_flight: int, source: str
) -> Phase:
    """T1: hold every station connected and idle (after one Heartbeat); RSS per connection."""
    before = server.rss()
    started = time.monotonic()
    outcome = _connect(gen, server, ids, in_flight, heartbeat=True, source_host=source)
    wall = time.monotonic() - started
    settle(server)
    after = server.rss()
    held = outcome.ok
    metrics: Metrics = {
        "stations": len(ids),
        "held": held,
        "failed": outcome.failed,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "rss_per_conn_kib": round((after - before) / held / 1024, 2) if held else None,
        "connect_wall_s": round(wall, 2),
    }
    _close(gen, server)
    return Phase(server.name, "T1", metrics, outcome.errors)


def closed_loop(
    gen: LoadGenerator,
    server: ServerProcess,
    action: str,
    ids: Sequence[str],
    *,
    seconds: float,
    warmup_s: float,
    source: str,
) -> Phase:
    """T2/T3: every station keeps one CALL outstanding; msg/s and msg per server-CPU-second."""
    setup = _connect(gen, server, ids, 500, boot=True, source_host=source)
    errors = dict(setup.errors)
    if action == "MeterValues":
        started = gen.broadcast(StartTransactions())
        errors.update(started.errors)
    settle(server)
    start_at = time.monotonic() + warmup_s
    end_at = start_at + seconds
    gen.send([ClosedLoop(action, start_at, end_at)] * gen.size)
    _sleep_until(start_at)
    cpu0 = server.cpu()
    _sleep_until(end_at)
    cpu1 = server.cpu()
    la = _loadavg()
    outcome = merge(gen.gather(seconds + 120))
    errors.update(outcome.errors)
    cpu = cpu1 - cpu0
    metrics: Metrics = {
        "connections": setup.ok,
        "messages": outcome.ok,
        "callerrors": outcome.failed,
        "msg_per_s": round(outcome.ok / seconds, 1),
        "server_cpu_pct": round(cpu / seconds * 100, 1),
        "msg_per_cpu_s": round(outcome.ok / cpu, 1) if cpu > 0 else None,
        "cpu_us_per_msg": round(cpu / outcome.ok * 1e6, 1) if outcome.ok else None,
        "loadavg": la,
    }
    _close(gen, server)
    return Phase(server.name, f"closed:{action}", metrics, errors)


def open_loop(
    gen: LoadGenerator,
    server: ServerProcess,
    action: str,
    ids: Sequence[str],
    *,
    rate: float,
    seconds: float,
    warmup_s: float,
    source: str,
) -> Phase:
    """T5/T6: a fixed offered load spread over the stations; latency percentiles."""
    setup = _connect(gen, server, ids, 500, boot=True, source_host=source)
    errors = dict(setup.errors)
    if action == "MeterValues":
        errors.update(gen.broadcast(StartTransactions()).errors)
    settle(server)
    start_at = time.monotonic() + warmup_s
    end_at = start_at + seconds
    share = rate / gen.size
    gen.send([OpenLoop(action, share, start_at, end_at)] * gen.size)
    _sleep_until(start_at)
    cpu0 = server.cpu()
    _sleep_until(end_at)
    cpu1 = server.cpu()
    la = _loadavg()
    outcome = merge(gen.gather(seconds + 120))
    errors.update(outcome.errors)
    lat = outcome.durations
    metrics: Metrics = {
        "connections": setup.ok,
        "offered_per_s": round(rate, 1),
        "answered_per_s": round(outcome.ok / seconds, 1),
        "callerrors": outcome.failed,
        "missed": outcome.missed,
        "p50_ms": _ms(percentile(lat, 50)),
        "p99_ms": _ms(percentile(lat, 99)),
        "p999_ms": _ms(percentile(lat, 99.9)),
        "max_ms": _ms(max(lat) if lat else None),
        "server_cpu_pct": round((cpu1 - cpu0) / seconds * 100, 1),
        "loadavg": la,
    }
    _close(gen, server)
    return Phase(server.name, f"open:{action}", metrics, errors)


def boot_storm(
    gen: LoadGenerator, server: ServerProcess, ids: Sequence[str], *, in_flight: int, source: str
) -> Phase:
    """T7: every station connects, boots and sends 2 StatusNotifications, ≤ in_flight at once."""
    return _storm(gen, server, ids, in_flight, "T7", boot=True, statuses=2, source_host=source)


def reconnect_storm(
    gen: LoadGenerator, server: ServerProcess, ids: Sequence[str], *, in_flight: int, source: str
) -> Phase:
    """T8: known stations reconnect without a boot (P4 §5.3): upgrade + auth lookup only."""
    return _storm(gen, server, ids, in_flight, "T8", source_host=source)


def _storm(
    gen: LoadGenerator,
    server: ServerProcess,
    ids: Sequence[str],
    in_flight: int,
    scenario: str,
    **kw: object,
) -> Phase:
    settle(server)
    cpu0 = server.cpu()
    started = time.monotonic()
    outcome = _connect(gen, server, ids, in_flight, **kw)
    wall = (outcome.last_at or time.monotonic()) - started
    cpu = settle(server) - cpu0
    la = _loadavg()
    done = outcome.ok
    metrics: Metrics = {
        "stations": len(ids),
        "done": done,
        "failed": outcome.failed,
        "wall_s": round(wall, 2),
        "per_s": round(done / wall, 1) if wall > 0 else None,
        "server_cpu_s": round(cpu, 2),
        "per_cpu_s": round(done / cpu, 1) if cpu > 0 else None,
        "cpu_ms_per_station": round(cpu / done * 1000, 3) if done else None,
        "p50_ms": _ms(percentile(outcome.durations, 50)),
        "p99_ms": _ms(percentile(outcome.durations, 99)),
        "loadavg": la,
    }
    _close(gen, server)
    return Phase(server.name, scenario, metrics, outcome.errors)


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _loadavg() -> float:
    return round(os.getloadavg()[0], 2)
