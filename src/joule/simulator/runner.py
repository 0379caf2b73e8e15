"""Run a fleet from the command line: one or several processes, a live status line, a summary.

For a big fleet each process runs a slice of the stations (its own event loop and sockets) and
reports its counters every second; the parent adds them up for the status line and the summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import queue
import signal
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from joule.simulator.fleet import Fleet, FleetPlan
from joule.simulator.model import Counters

Snapshot = dict[str, Any]
_REPORT_EVERY_S = 1.0


@dataclass(frozen=True)
class RunOptions:
    """What `joule simulate` was asked to do."""

    url: str
    plan: FleetPlan
    duration_s: float | None = None  # None: until interrupted
    processes: int = 1
    tick_s: float = 1.0
    ramp_s: float = 0.0
    check_schemas: bool = True


def _snapshot(fleet: Fleet, started: float) -> Snapshot:
    data = fleet.counters().to_dict()
    data.update(
        stations=len(fleet),
        online=fleet.online(),
        active=fleet.active_sessions(),
        elapsed=time.monotonic() - started,
    )
    return data


async def _run_slice(options: RunOptions, stop: asyncio.Event, report: Any) -> Snapshot:
    fleet = Fleet.from_plan(
        options.url, options.plan, check_schemas=options.check_schemas, tick_s=options.tick_s
    )
    started = time.monotonic()
    await fleet.start(ramp_s=options.ramp_s)
    deadline = None if options.duration_s is None else started + options.duration_s
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        report(_snapshot(fleet, started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _REPORT_EVERY_S)
    await fleet.stop()
    return _snapshot(fleet, started)


def combine(snapshots: list[Snapshot]) -> Snapshot:
    """Several processes' snapshots as one."""
    total = Counters()
    out: Snapshot = {"stations": 0, "online": 0, "active": 0, "elapsed": 0.0}
    for snap in snapshots:
        total.add(Counters.from_dict({k: v for k, v in snap.items() if k not in out}))
        for key in ("stations", "online", "active"):
            out[key] += snap[key]
        out["elapsed"] = max(out["elapsed"], snap["elapsed"])
    out.update(total.to_dict())
    return out


def status_line(snap: Snapshot) -> Text:
    """The one-line live status."""
    kwh = Decimal(snap["energy_wh"]) / 1000
    errors = snap["callerrors_received"]
    line = Text()
    line.append(f"{snap['elapsed']:6.0f}s ", style="dim")
    line.append(f"online {snap['online']}/{snap['stations']}  booted {snap['booted']}  ")
    line.append(f"charging {snap['active']}  done {snap['sessions_completed']}  ")
    line.append(f"{kwh:.1f} kWh  msgs {snap['messages_sent']}  ")
    line.append(f"CALLERRORs {errors}", style="bold red" if errors else "green")
    line.append(f"  reconnects {snap['reconnects']}  queued {snap['queued']}")
    return line


def summary_table(snap: Snapshot) -> Table:
    """The summary at the end of a run."""
    table = Table(title="joule simulate — summary", show_header=False)
    codes = ", ".join(f"{c} {n}" for c, n in sorted(snap["callerror_codes"].items())) or "-"
    sessions = (
        f"{snap['sessions_started']} started, {snap['sessions_completed']} completed, "
        f"{snap['sessions_refused']} refused"
    )
    schema = f"{snap['schema_failures']} from the CSMS, {snap['invalid_sent']} ours"
    rows = [
        ("stations", f"{snap['stations']} ({snap['booted']} booted)"),
        ("sessions", sessions),
        ("energy", f"{Decimal(snap['energy_wh']) / 1000:.3f} kWh"),
        ("messages", f"{snap['messages_sent']} sent, {snap['messages_received']} received"),
        ("CALLERRORs received", f"{snap['callerrors_received']} ({codes})"),
        ("timeouts", str(snap["timeouts"])),
        ("reconnects", f"{snap['reconnects']} ({snap['connect_failures']} failed attempts)"),
        ("schema violations", schema),
        ("discarded transaction messages", str(snap["transaction_messages_discarded"])),
        ("run time", f"{snap['elapsed']:.0f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def run_fleet(options: RunOptions, console: Console) -> Snapshot:
    """Run the fleet, show a live status line, print the summary, return the final numbers."""
    if options.processes <= 1:
        final = asyncio.run(_single(options, console))
    else:
        final = _multi(options, console)
    console.print(summary_table(final))
    return final


async def _single(options: RunOptions, console: Console) -> Snapshot:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with Live(Text("starting…"), console=console, refresh_per_second=2, transient=True) as live:
        return await _run_slice(options, stop, lambda snap: live.update(status_line(snap)))


def _child(options: RunOptions, index: int, out: Any, stop_flag: MpEvent) -> None:
    """One process's share of the fleet; reports on `out`, stops when `stop_flag` is set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop

    async def main() -> Snapshot:
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop_flag.is_set():
                await asyncio.sleep(0.2)
            stop.set()

        watcher = asyncio.create_task(watch())
        try:
            return await _run_slice(options, stop, lambda snap: out.put(("progress", index, snap)))
        finally:
            watcher.cancel()

    out.put(("done", index, asyncio.run(main())))


def _multi(options: RunOptions, console: Console) -> Snapshot:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    stop_flag = ctx.Event()
    total, n = options.plan.stations, options.processes
    children = []
    first = options.plan.first
    for index in range(n):
        count = total // n + (1 if index < total % n else 0)
        if count == 0:
            continue
        share = replace(options, plan=options.plan.slice(first, count), processes=1)
        first += count
        child = ctx.Process(target=_child, args=(share, index, out, stop_flag), daemon=True)
        child.start()
        children.append(child)
    latest: dict[int, Snapshot] = {}
    done: set[int] = set()
    with Live(Text("starting…"), console=console, refresh_per_second=2, transient=True) as live:
        while len(done) < len(children):
            try:
                kind, index, snap = out.get(timeout=0.5)
            except queue.Empty:
                if not any(c.is_alive() for c in children):
                    break
                continue
            except KeyboardInterrupt:
                stop_flag.set()
                continue
            latest[index] = snap
            if kind == "done":
                done.add(index)
            live.update(status_line(combine(list(latest.values()))))
    for child in children:
        child.join(timeout=30)
    return combine(list(latest.values()))
