"""`joule db upgrade|current`: schema migrations (shipped inside the package)."""

from __future__ import annotations

import typer

from joule.cli.common import settings_with
from joule.storage import migrate

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command()
def upgrade(
    database_url: str | None = typer.Option(None, help="Database URL [env JOULE_DATABASE_URL]"),
    revision: str = typer.Option("head", help="Target revision"),
) -> None:
    """Apply pending migrations."""
    url = settings_with(database_url=database_url).database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {migrate.current(url)}")


@app.command()
def current(database_url: str | None = typer.Option(None, help="Database URL")) -> None:
    """Show the database's migration revision and whether migrations are pending."""
    url = settings_with(database_url=database_url).database_url
    rev = migrate.current(url)
    pending = migrate.pending(url)
    typer.echo(f"{rev or 'empty'}{' (migrations pending)' if pending else ' (up to date)'}")
