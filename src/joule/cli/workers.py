"""`joule serve --workers N`: `joule serve` as N processes sharing the ports (cluster.py).

`joule serve-workers` is kept as an alias (same flags, `--workers` defaulting to 2).
"""

from __future__ import annotations

import typer

from joule.cli.common import settings_with, setup_logging
from joule.config import Settings, UnknownStationPolicy
from joule.runtime import StartupError


def run_workers(settings: Settings, workers: int) -> None:
    """Run `workers` Joule processes until SIGTERM; exits with their combined status."""
    from joule.cluster import serve_workers  # the supervisor imports the whole runtime

    setup_logging(settings.log_level)
    try:
        code = serve_workers(settings, workers, log_setup=setup_logging)
    except StartupError as exc:
        typer.echo(f"joule: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"joule: cannot start: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def serve_workers(
    workers: int = typer.Option(
        2, min=1, envvar="JOULE_WORKERS", help="Worker processes (one per core)"
    ),
    host: str | None = typer.Option(None, help="Address to listen on [env JOULE_HOST, 127.0.0.1]"),
    http_port: int | None = typer.Option(None, help="REST API and dashboard port [8000]"),
    ocpp_port: int | None = typer.Option(None, help="OCPP WebSocket port [9000]"),
    database_url: str | None = typer.Option(None, help="sqlite:///./joule.db or postgresql://…"),
    unknown_stations: UnknownStationPolicy | None = typer.Option(
        None, help="pending | accept | reject"
    ),
    no_migrate: bool = typer.Option(
        False, "--no-migrate", help="Refuse to start if migrations are pending"
    ),
) -> None:
    """Alias of `joule serve --workers N` (N processes on the same ports and database)."""
    settings = settings_with(
        host=host,
        http_port=http_port,
        ocpp_port=ocpp_port,
        database_url=database_url,
        unknown_stations=unknown_stations,
        auto_migrate=False if no_migrate else None,
    )
    run_workers(settings, workers)
