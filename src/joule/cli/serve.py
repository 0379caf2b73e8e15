"""`joule serve`: run Joule until SIGTERM/SIGINT, then drain."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import typer

from joule.cli.common import settings_with, setup_logging
from joule.cli.demo import DemoFleet, demo_settings
from joule.config import Role, UnknownStationPolicy
from joule.kit.gc_tuning import tune_for_serving
from joule.kit.logging import LogFormat
from joule.runtime import Joule, StartupError


def serve(
    host: str | None = typer.Option(None, help="Address to listen on [env JOULE_HOST, 127.0.0.1]"),
    http_port: int | None = typer.Option(None, help="REST API and dashboard port [8000]"),
    ocpp_port: int | None = typer.Option(None, help="OCPP WebSocket port [9000]"),
    database_url: str | None = typer.Option(None, help="sqlite:///./joule.db or postgresql://…"),
    unknown_stations: UnknownStationPolicy | None = typer.Option(
        None, help="pending | accept | reject"
    ),
    role: Role | None = typer.Option(None, help="all | gateway | core | api"),
    log_format: LogFormat | None = typer.Option(
        None, help="json | console [env JOULE_LOG_FORMAT; console on a terminal, else json]"
    ),
    log_level: str | None = typer.Option(None, help="DEBUG | INFO | WARNING | ERROR [INFO]"),
    no_migrate: bool = typer.Option(
        False, "--no-migrate", help="Refuse to start if migrations are pending"
    ),
    demo: int = typer.Option(0, "--demo", min=0, help="Also run a demo fleet of N stations"),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        envvar="JOULE_WORKERS",
        help="Processes sharing the OCPP and HTTP ports (SO_REUSEPORT; one per core) [1]",
    ),
) -> None:
    """Run the CSMS: the OCPP endpoint, the core and the operator API."""
    settings = settings_with(
        host=host,
        http_port=http_port,
        ocpp_port=ocpp_port,
        database_url=database_url,
        unknown_stations=unknown_stations,
        role=role,
        auto_migrate=False if no_migrate else None,
        log_format=log_format,
        log_level=log_level,
    )
    if workers > 1:
        if demo:
            # The demo fleet drives one in-process Joule; N workers have no single one to drive.
            typer.echo("joule: --demo runs in one process: leave out --workers", err=True)
            raise typer.Exit(2)
        if settings.role is not Role.ALL:
            # Each worker is a whole Joule (cluster.py): it holds sockets and relays commands.
            typer.echo("joule: --workers needs --role all", err=True)
            raise typer.Exit(2)
        from joule.cli.workers import run_workers  # the supervisor imports the whole runtime

        if settings.log_format is not None:
            # Worker processes set up logging from the level alone (cluster.py) and read the
            # format from the environment they inherit: hand the flag down that way.
            os.environ["JOULE_LOG_FORMAT"] = settings.log_format.value
        run_workers(settings, workers)
        return
    if demo:
        settings = demo_settings(settings)
    setup_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(Joule(settings), demo))
    except StartupError as exc:
        typer.echo(f"joule: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"joule: cannot start: {exc}", err=True)
        raise typer.Exit(2) from None


# The banner is shown at any --log-level: people and scripts wait for it.
_banner = logging.getLogger("joule.serve")
_banner.setLevel(logging.INFO)


async def _serve(joule: Joule, demo: int = 0) -> None:
    stop = asyncio.Event()
    fleet: DemoFleet | None = None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await joule.start()
        s = joule.settings
        tune_for_serving(s.gc_gen0_threshold)
        # A log line, not a print: with JSON logs every line on stderr must be JSON.
        _banner.info(
            "Joule is running — OCPP ws://%s:%s/ocpp/<station-id>  API http://%s:%s/api/v1  "
            "docs http://%s:%s/docs",
            *(s.host, joule.ocpp_port, s.host, joule.http_port, s.host, joule.http_port),
        )
        if demo:
            fleet = DemoFleet(joule, demo)
            await fleet.start()
            print(fleet.banner(), file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        if fleet is not None:
            await fleet.stop()
        await joule.stop()
