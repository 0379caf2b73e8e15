"""`joule station add|list`: register stations from the shell."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from joule.cli.common import run_work, settings_with
from joule.domain.registry import stations
from joule.kit.clock import SystemClock
from joule.kit.errors import JouleError
from joule.storage.uow import UnitOfWork

app = typer.Typer(help="Charging stations.", no_args_is_help=True)


@app.command()
def add(
    station_id: str = typer.Argument(
        ..., help="The station identity (last URL segment, ≤ 48 chars)"
    ),
    password_file: Path | None = typer.Option(None, help="File holding the Basic-auth password"),
    password: str | None = typer.Option(None, help="Basic-auth password (prefer --password-file)"),
    security_profile: int | None = typer.Option(None, help="0 none, 1 basic, 2 TLS+basic, 3 mTLS"),
    site_id: str | None = typer.Option(None, help="Site the station belongs to"),
    database_url: str | None = typer.Option(None, help="Database URL [env JOULE_DATABASE_URL]"),
) -> None:
    """Register a station (accepted) so it may connect."""
    settings = settings_with(database_url=database_url)
    secret = password_file.read_text().strip() if password_file else password

    async def work(uow: UnitOfWork) -> str:
        draft = await stations.draft_station(
            station_id=station_id,
            password=secret,
            security_profile=security_profile,
            site_id=site_id,
        )
        view = await stations.register_station(uow.session, draft, at=SystemClock().now())
        return f"station {view.station.id} added (security profile {view.station.security_profile})"

    try:
        typer.echo(run_work(settings, work))
    except JouleError as exc:
        typer.echo(f"joule: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("list")
def list_(
    database_url: str | None = typer.Option(None, help="Database URL [env JOULE_DATABASE_URL]"),
    limit: int = typer.Option(100, help="How many stations to show"),
) -> None:
    """List stations with their connection state."""
    settings = settings_with(database_url=database_url)

    async def work(uow: UnitOfWork) -> list[tuple[str, ...]]:
        views, _total = await stations.list_stations(uow.session, limit=limit, offset=0)
        return [
            (
                v.station.id,
                "online" if v.station.online else "offline",
                v.station.registration,
                v.station.ocpp_version or "-",
                f"{v.station.vendor or '-'} {v.station.model or ''}".strip(),
                v.station.last_seen.isoformat() if v.station.last_seen else "-",
            )
            for v in views
        ]

    table = Table("id", "state", "registration", "ocpp", "vendor/model", "last seen")
    for row in run_work(settings, work, write=False):
        table.add_row(*row)
    Console().print(table)
