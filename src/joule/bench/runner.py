"""One `joule bench` run: the raw ceiling and Joule, one after the other, under one generator."""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joule.bench import payloads, scenarios
from joule.bench.generator import LoadGenerator
from joule.bench.loadgen import raise_fd_limit
from joule.bench.report import Report, build_rows
from joule.bench.servers import (
    FreshDatabase,
    ServerProcess,
    api_post,
    api_token,
    load_average,
    start_joule,
    start_raw,
)
from joule.ocpp.validation import measure_cost

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and how hard."""

    stations: int = 10_000  # T1, T7, T8
    connections: int = 1_000  # closed/open loops (performance.md §2.1: 1 000 connections)
    seconds: float = 10.0  # measured window of each loop
    warmup_s: float = 2.0
    in_flight: int = 1_000  # T7/T8: ≤ 1 000 handshakes in flight
    generators: int = 1
    postgres_url: str | None = None
    workers: int = 1  # also measure a Joule with this many worker processes (when > 1)
    mv_rate: float = 500.0  # T6 offered MeterValues/s
    picows: bool = True  # also measure raw picows when it is installed
    log_dir: Path | None = None

    @classmethod
    def quick(cls, **overrides: object) -> BenchOptions:
        """A CI smoke run: small numbers, well under a minute."""
        values: dict[str, object] = {
            "stations": 200,
            "connections": 50,
            "seconds": 1.0,
            "warmup_s": 0.5,
            "in_flight": 100,
            "mv_rate": 100.0,
            "picows": False,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index:05d}" for index in range(count)]


class _Sources:
    """A fresh loopback source address per storm, so TIME_WAIT never exhausts ephemeral ports."""

    def __init__(self) -> None:
        self._next = 10

    def __call__(self) -> str:
        self._next = self._next + 1 if self._next < 250 else 10
        return f"127.0.0.{self._next}"


def measure_server(
    gen: LoadGenerator,
    server: ServerProcess,
    options: BenchOptions,
    report: Report,
    progress: Progress,
    *,
    only: set[str] | None = None,
    heartbeat_rate: float | None = None,
) -> None:
    """Run the scenarios (all, or `only`) against one server; phases go into the report."""
    source = _Sources()

    def want(name: str) -> bool:
        return only is None or name in only

    conns = _ids("C", min(options.connections, options.stations))

    def record(phase: scenarios.Phase) -> None:
        report.phases.append(phase)
        shown = ", ".join(f"{k}={v}" for k, v in phase.metrics.items())
        errors = f"  errors: {phase.errors}" if phase.errors else ""
        progress(f"  {phase.server:16s} {phase.scenario:20s} {shown}{errors}")

    if want("T1"):
        record(
            scenarios.idle_connections(
                gen,
                server,
                _ids("I", options.stations),
                in_flight=options.in_flight,
                source=source(),
            )
        )
    if want("T7"):
        record(
            scenarios.boot_storm(
                gen,
                server,
                _ids("B", options.stations),
                in_flight=options.in_flight,
                source=source(),
            )
        )
    if want("T8"):
        record(
            scenarios.reconnect_storm(
                gen,
                server,
                _ids("B", options.stations),
                in_flight=options.in_flight,
                source=source(),
            )
        )
    for action in ("Heartbeat", "MeterValues"):
        if want(f"closed:{action}"):
            record(
                scenarios.closed_loop(
                    gen,
                    server,
                    action,
                    conns,
                    seconds=options.seconds,
                    warmup_s=options.warmup_s,
                    source=source(),
                )
            )
    if want("open:Heartbeat"):
        rate = heartbeat_rate or _heartbeat_rate(report, server.name)
        record(
            scenarios.open_loop(
                gen,
                server,
                "Heartbeat",
                conns,
                rate=rate,
                seconds=options.seconds,
                warmup_s=options.warmup_s,
                source=source(),
            )
        )
    if want("open:MeterValues"):
        record(
            scenarios.open_loop(
                gen,
                server,
                "MeterValues",
                conns,
                rate=options.mv_rate,
                seconds=options.seconds,
                warmup_s=options.warmup_s,
                source=source(),
            )
        )


def _heartbeat_rate(report: Report, server: str) -> float:
    """T5 offers 0.1 × the raw Heartbeat rate of this run."""
    measured = report.phase(server, "closed:Heartbeat")
    rate = measured.metrics.get("msg_per_s") if measured is not None else None
    return round(0.1 * float(rate), 0) if rate else 1000.0


def run(options: BenchOptions, progress: Progress) -> Report:
    """Measure the raw ceiling, then Joule (SQLite, PostgreSQL, N workers), then validation."""
    raise_fd_limit()
    report = Report(meta=machine_info(options))
    loads: list[float] = []
    with LoadGenerator(options.generators) as gen:
        progress(f"raw ceiling (websockets {_version('websockets')})")
        raw = start_raw("websockets")
        try:
            measure_server(gen, raw, options, report, progress)
        finally:
            raw.stop()
        loads.append(load_average())
        hb_rate = _heartbeat_rate(report, raw.name)
        if options.picows and importlib.util.find_spec("picows") is not None:
            progress("raw ceiling (picows)")
            pic = start_raw("picows")
            try:
                measure_server(
                    gen,
                    pic,
                    options,
                    report,
                    progress,
                    only={"closed:Heartbeat", "closed:MeterValues"},
                )
            finally:
                pic.stop()
        progress("Joule on SQLite")
        with FreshDatabase(None) as db:
            joule = _start_joule(db.url, 1, options)
            try:
                measure_server(gen, joule, options, report, progress, heartbeat_rate=hb_rate)
            finally:
                joule.stop()
        loads.append(load_average())
        postgres = None
        if options.postgres_url:
            progress("Joule on PostgreSQL")
            with FreshDatabase(options.postgres_url) as db:
                joule = _start_joule(db.url, 1, options, name="joule-pg")
                try:
                    measure_server(
                        gen,
                        joule,
                        options,
                        report,
                        progress,
                        only={"closed:MeterValues", "open:MeterValues"},
                    )
                finally:
                    joule.stop()
            postgres = "joule-pg"
            loads.append(load_average())
        workers = None
        if options.workers > 1:
            progress(f"Joule on SQLite with {options.workers} workers")
            with FreshDatabase(None) as db:
                joule = _start_joule(db.url, options.workers, options)
                try:
                    measure_server(
                        gen,
                        joule,
                        options,
                        report,
                        progress,
                        only={"closed:Heartbeat", "closed:MeterValues"},
                    )
                finally:
                    joule.stop()
            workers = joule.name
            loads.append(load_average())
    progress("validation cost (T9)")
    report.validation_us = measure_cost()
    report.meta["loadavg_after_each_server"] = loads
    report.meta["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    build_rows(report, joule="joule", raw=raw.name, postgres=postgres, workers=workers)
    return report


def _start_joule(
    url: str, workers: int, options: BenchOptions, name: str | None = None
) -> ServerProcess:
    log = None
    if options.log_dir is not None:
        options.log_dir.mkdir(parents=True, exist_ok=True)
        log = options.log_dir / f"{name or 'joule'}-{workers}w-{int(time.time())}.log"
    server = start_joule(url, workers=workers, log_path=log)
    if name:
        server.name = name
    # An Accepted id tag, so StartTransaction takes the ordinary path (C16 §4.8).
    assert server.http_url is not None
    token = api_token(server.http_url)
    api_post(server.http_url, token, "/tokens", {"uid": payloads.ID_TAG, "status": "Accepted"})
    return server


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _memory_total() -> str | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        return None
    return None


def _cpu_model() -> str | None:
    """The CPU's model name: ratios move with it (Python's speed against the kernel's)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine_info(options: BenchOptions) -> dict[str, object]:
    """Date, commit, machine and versions: what the results were measured on."""
    import resource

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory": _memory_total(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "versions": {
            p: _version(p)
            for p in (
                "websockets",
                "orjson",
                "msgspec",
                "fastjsonschema",
                "sqlalchemy",
                "aiosqlite",
                "asyncpg",
                "picows",
            )
        },
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in options.__dict__.items()
            if k != "postgres_url"
        },
        "postgres": bool(options.postgres_url),
        "argv": sys.argv[1:],
    }
