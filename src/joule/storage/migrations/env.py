"""Alembic environment: runs on the connection and transaction joule.storage.migrate provides."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from joule.storage.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    """Run the migrations inside the caller's transaction (one atomic upgrade)."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table (architecture.md).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "Joule's migrations run through joule.storage.migrate (or `joule db upgrade`), "
        "which supplies the connection; there is no alembic.ini to run them from."
    )
run_migrations(_connection)
