"""The bench's one table: every target as Joule vs the raw ceiling of the same run (and JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from joule.bench.scenarios import Phase

Number = float | int | None


@dataclass
class Row:
    """One line of the table: a metric for the raw ceiling and for Joule, their ratio, the goal."""

    target: str
    metric: str
    raw: Number | str
    joule: Number | str
    ratio: float | None
    goal: str
    met: bool | None


@dataclass
class Report:
    """Everything one `joule bench` run measured."""

    meta: dict[str, Any]
    phases: list[Phase] = field(default_factory=list)
    validation_us: dict[str, float] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def phase(self, server: str, scenario: str) -> Phase | None:
        """The phase a server ran for a scenario, if it ran."""
        for phase in self.phases:
            if phase.server == server and phase.scenario == scenario:
                return phase
        return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole run."""
        return {
            "meta": self.meta,
            "rows": [asdict(row) for row in self.rows],
            "phases": [asdict(phase) for phase in self.phases],
            "validation_us": self.validation_us,
        }

    def write_json(self, path: Path) -> None:
        """Write the run as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def ratio(value: Number | str, base: Number | str) -> float | None:
    """value / base, rounded; None when either is missing or base is zero."""
    if not isinstance(value, int | float) or not isinstance(base, int | float) or not base:
        return None
    return round(value / base, 3)


def _metric(report: Report, server: str, scenario: str, name: str) -> Number:
    phase = report.phase(server, scenario)
    return phase.metrics.get(name) if phase is not None else None


def _latency(report: Report, server: str, scenario: str) -> str | None:
    phase = report.phase(server, scenario)
    if phase is None:
        return None
    parts = [phase.metrics.get(k) for k in ("p50_ms", "p99_ms", "p999_ms")]
    return " / ".join("–" if p is None else f"{p:g}" for p in parts)


def _at_least(goal: float) -> Callable[[float | None], bool | None]:
    return lambda r: None if r is None else r >= goal


def _at_most(goal: float) -> Callable[[float | None], bool | None]:
    return lambda r: None if r is None else r <= goal


def build_rows(
    report: Report, *, joule: str, raw: str, postgres: str | None, workers: str | None
) -> None:
    """Fill report.rows from the phases (performance.md §3 targets)."""
    rows = report.rows

    def pair(
        target: str,
        label: str,
        scenario: str,
        name: str,
        goal: str,
        check: Callable[[float | None], bool | None] | None,
        server: str = joule,
        base: str = raw,
    ) -> None:
        value = _metric(report, server, scenario, name)
        reference = _metric(report, base, scenario, name)
        r = ratio(value, reference)
        rows.append(Row(target, label, reference, value, r, goal, check(r) if check else None))

    n = _metric(report, joule, "T1", "stations")
    held = _metric(report, joule, "T1", "held")
    rows.append(
        Row(
            "T1",
            f"idle connections held (of {n})",
            _metric(report, raw, "T1", "held"),
            held,
            ratio(held, n),
            "all held",
            None if held is None else held == n,
        )
    )
    pair("T1", "RSS per idle connection, KiB", "T1", "rss_per_conn_kib", "≤ 3× raw", _at_most(3))
    pair("T2", "Heartbeat msg/s (closed loop)", "closed:Heartbeat", "msg_per_s", "", None)
    pair(
        "T2",
        "Heartbeat msg per server-CPU-s",
        "closed:Heartbeat",
        "msg_per_cpu_s",
        "≥ 0.5× raw",
        _at_least(0.5),
    )
    pair("T3", "MeterValues(10) msg/s, SQLite", "closed:MeterValues", "msg_per_s", "", None)
    pair(
        "T3",
        "MeterValues(10) msg per server-CPU-s, SQLite",
        "closed:MeterValues",
        "msg_per_cpu_s",
        "≥ 0.25× raw",
        _at_least(0.25),
    )
    if postgres is not None:
        pair(
            "T3",
            "MeterValues(10) msg/s, PostgreSQL",
            "closed:MeterValues",
            "msg_per_s",
            "",
            None,
            server=postgres,
        )
        pair(
            "T3",
            "MeterValues(10) msg per server-CPU-s, PostgreSQL",
            "closed:MeterValues",
            "msg_per_cpu_s",
            "≥ 0.25× raw",
            _at_least(0.25),
            server=postgres,
        )
    for target, scenario, goal_ms, servers in (
        ("T5", "open:Heartbeat", 5.0, [(joule, "")]),
        (
            "T6",
            "open:MeterValues",
            25.0,
            [(joule, ", SQLite")] + ([(postgres, ", PostgreSQL")] if postgres else []),
        ),
    ):
        for server, suffix in servers:
            offered = _metric(report, server, scenario, "offered_per_s")
            action = scenario.split(":")[1]
            p99 = _metric(report, server, scenario, "p99_ms")
            rows.append(
                Row(
                    target,
                    f"{action} p50 / p99 / p99.9 ms @ {offered} msg/s{suffix}",
                    _latency(report, raw, scenario) or "–",
                    _latency(report, server, scenario) or "–",
                    ratio(p99, _metric(report, raw, scenario, "p99_ms")),
                    f"p99 ≤ {goal_ms:g} ms",
                    None if not isinstance(p99, int | float) else p99 <= goal_ms,
                )
            )
    stations = _metric(report, joule, "T7", "stations")
    pair("T7", f"boot storm of {stations}: stations/s", "T7", "per_s", "", None)
    pair(
        "T7",
        "boot storm: stations per server-CPU-s",
        "T7",
        "per_cpu_s",
        "≥ 0.5× raw",
        _at_least(0.5),
    )
    failed = _metric(report, joule, "T7", "failed")
    rows.append(
        Row(
            "T7",
            "boot storm: failures",
            _metric(report, raw, "T7", "failed"),
            failed,
            None,
            "0",
            None if failed is None else failed == 0,
        )
    )
    p99 = _metric(report, joule, "T7", "p99_ms")
    rows.append(
        Row(
            "T7",
            "boot storm: per-station p99, ms",
            _metric(report, raw, "T7", "p99_ms"),
            p99,
            ratio(p99, _metric(report, raw, "T7", "p99_ms")),
            "≤ 5 000 ms",
            None if not isinstance(p99, int | float) else p99 <= 5000,
        )
    )
    pair("T8", "reconnect storm: connects/s", "T8", "per_s", "≥ 0.5× raw", _at_least(0.5))
    pair("T8", "reconnect storm: connects per server-CPU-s", "T8", "per_cpu_s", "", None)
    cpu_per_mv = _metric(report, joule, "closed:MeterValues", "cpu_us_per_msg")
    for label, micros in report.validation_us.items():
        share = ratio(micros, cpu_per_mv) if "MeterValues" in label else None
        rows.append(
            Row(
                "T9",
                f"validation µs, {label}",
                "–",
                round(micros, 2),
                share,
                "≤ 50 µs (≤ 0.1 of a MeterValues' CPU)",
                micros <= 50 and (share is None or share <= 0.1),
            )
        )
    if workers is not None:
        pair(
            "scale",
            f"Heartbeat msg/s, {workers} (raw column: 1 worker)",
            "closed:Heartbeat",
            "msg_per_s",
            "> 1× (2 cores)",
            None,
            server=workers,
            base=joule,
        )
        pair(
            "scale",
            f"MeterValues(10) msg/s SQLite, {workers} (raw column: 1 worker)",
            "closed:MeterValues",
            "msg_per_s",
            "",
            None,
            server=workers,
            base=joule,
        )


def _cell(value: Number | str | bool) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def render(report: Report, console: Console | None = None) -> None:
    """Print the table."""
    console = console or Console()
    table = Table(title=f"joule bench — {report.meta.get('date', '')}", show_lines=False)
    for heading in ("target", "metric", "raw", "Joule", "ratio", "goal", "met"):
        table.add_column(
            heading, justify="right" if heading in ("raw", "Joule", "ratio") else "left"
        )
    for row in report.rows:
        table.add_row(
            row.target,
            row.metric,
            _cell(row.raw),
            _cell(row.joule),
            _cell(row.ratio),
            row.goal,
            _cell(row.met),
        )
    console.print(table)
