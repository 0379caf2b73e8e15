"""`joule operator create`: add an operator account."""

from __future__ import annotations

import typer

from joule.cli.common import run_work, settings_with
from joule.domain.operator import service as operators
from joule.kit.clock import SystemClock
from joule.kit.errors import JouleError
from joule.storage.uow import UnitOfWork

app = typer.Typer(help="Operator accounts.", no_args_is_help=True)


@app.command()
def create(
    email: str = typer.Argument(..., help="The operator's e-mail address (login name)"),
    role: str = typer.Option("operator", help="admin | operator | viewer"),
    password: str | None = typer.Option(
        None, help="Password (prompted for when omitted; avoid it on shared shells)"
    ),
    database_url: str | None = typer.Option(None, help="Database URL [env JOULE_DATABASE_URL]"),
) -> None:
    """Create an operator; asks for the password interactively unless given."""
    settings = settings_with(database_url=database_url)
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(uow: UnitOfWork) -> str:
        draft = await operators.draft_operator(email=email, password=secret, role=role)
        created = await operators.create_operator(uow.session, draft, at=SystemClock().now())
        return f"operator {created.email} created with role {created.role}"

    try:
        typer.echo(run_work(settings, work))
    except JouleError as exc:
        typer.echo(f"joule: {exc}", err=True)
        raise typer.Exit(1) from None
