"""The `joule` command: one module per group of subcommands."""

from __future__ import annotations

import typer

from joule.cli import bench, db, operator, serve, simulate, station, workers

app = typer.Typer(
    help="Joule — an open-source Charging Station Management System.", no_args_is_help=True
)
app.command("serve")(serve.serve)
app.command("simulate")(simulate.simulate)
app.command("bench")(bench.bench)
app.command("serve-workers")(workers.serve_workers)
app.add_typer(db.app, name="db")
app.add_typer(operator.app, name="operator")
app.add_typer(station.app, name="station")

if __name__ == "__main__":  # pragma: no cover
    app()
