"""`joule bench`: Joule side by side with the raw WebSocket ceiling (performance.md §3)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console


def bench(
    quick: bool = typer.Option(False, "--quick", help="Small CI smoke run (under a minute)"),
    stations: int | None = typer.Option(
        None, help="Stations for T1 (idle), T7 (boot storm), T8 (reconnect storm) [10 000]"
    ),
    connections: int | None = typer.Option(
        None, help="Connections for the throughput and latency loops [1 000]"
    ),
    seconds: float | None = typer.Option(None, help="Measured window of each loop [10]"),
    json_path: Path | None = typer.Option(None, "--json", help="Also write the results here"),
    database_url: str | None = typer.Option(
        None,
        help="PostgreSQL for the T3/T6 PostgreSQL rows, e.g. postgresql://postgres@127.0.0.1:5432/"
        "joule_bench — created for the run and dropped after (an existing one is refused)",
    ),
    workers: int = typer.Option(
        1, help="Also measure `joule serve --workers N` (1 vs N) when N > 1"
    ),
    generators: int | None = typer.Option(
        None, help="Load-generator processes [1; they share the cores with the server]"
    ),
    log_dir: Path | None = typer.Option(None, help="Keep each Joule server's log here"),
) -> None:
    """Measure Joule and the raw ceiling on loopback and print one table (targets T1–T9)."""
    # Imported here: `joule serve` should not pay for the bench's imports at start-up.
    from joule.bench.report import render
    from joule.bench.runner import BenchOptions, run

    if database_url is not None and not database_url.startswith(("postgresql", "postgres")):
        typer.echo("joule bench: --database-url must be a postgresql:// URL", err=True)
        raise typer.Exit(2)
    overrides: dict[str, object] = {
        "stations": stations,
        "connections": connections,
        "seconds": seconds,
        "postgres_url": database_url,
        "workers": workers,
        "generators": generators,
        "log_dir": log_dir,
    }
    if quick:
        options = BenchOptions.quick(**overrides)
    else:
        options = BenchOptions(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    err = Console(stderr=True)
    report = run(options, lambda line: err.print(line, markup=False, highlight=False))
    # Wide enough for the table when stdout is a file or a CI log (rich assumes 80 columns).
    render(report, Console(width=None if sys.stdout.isatty() else 150))
    if json_path is not None:
        report.write_json(json_path)
        err.print(f"results written to {json_path}")
    missed = [row for row in report.rows if row.met is False]
    if missed:
        err.print(f"{len(missed)} target(s) missed", style="yellow")
    sys.stdout.flush()
