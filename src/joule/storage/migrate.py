"""Schema migrations: upgrade a database, report its revision, check it against the models.

Alembic is configured here, in code, so migrations run the same from any working directory and
from an installed wheel. Alembic is synchronous: it runs on the async engine's connection through
`run_sync` (Alembic cookbook, "Using Asyncio with Alembic"). The sync functions are for the CLI
and tests; code already inside an event loop awaits the `*_async` variants.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from joule.storage.db import WRITE_INTENT, create_engine
from joule.storage.models import Base

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Nodes that start together must not migrate the same PostgreSQL database at the same time.
_PG_MIGRATION_LOCK = 0x4A6F756C65  # "Joule"


class MigrationError(RuntimeError):
    """A migration left the database inconsistent and was rolled back."""


def alembic_config() -> Config:
    """The Alembic configuration for Joule's migrations, without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Date-prefixed revision files (architecture.md), e.g. 2026_11_28_0001_initial.py.
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("timezone", "UTC")
    return config


def head() -> str | None:
    """The newest revision the code ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@asynccontextmanager
async def _connect(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` in one transaction; a no-op when already there."""
    config = alembic_config()
    async with _connect(database_url) as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's documented ALTER TABLE procedure: foreign keys off while batch mode
            # rebuilds tables, then foreign_key_check before COMMIT. Off only on this
            # connection, and only outside a transaction (the pragma is a no-op inside one).
            # On the DBAPI connection itself: SQLAlchemy would wrap a statement in a transaction.
            raw = (await connection.get_raw_connection()).dbapi_connection
            assert raw is not None  # a checked-out connection always has one
            await connection.run_sync(lambda _: raw.cursor().execute("PRAGMA foreign_keys=OFF"))
        # BEGIN IMMEDIATE on SQLite: a concurrent migrator waits instead of failing midway.
        await connection.execution_options(**WRITE_INTENT)
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            await connection.run_sync(_run_upgrade, config, revision)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise MigrationError(f"foreign keys broken by the migration: {broken[:10]}")


def _run_upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_async(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with _connect(database_url) as connection:
        return await connection.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def pending_async(database_url: str) -> bool:
    """True when the database is not at the code's head revision."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with _connect(database_url) as connection:
        current = await connection.run_sync(_current_heads)
    return set(current) != heads


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


async def check_async(database_url: str) -> list[str]:
    """Differences between the models and the database schema; empty when they agree."""
    async with _connect(database_url) as connection:
        diffs = await connection.run_sync(_compare)
    return [_describe(diff) for diff in _flatten(diffs)]


def _compare(connection: Connection) -> Any:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _flatten(diffs: Iterable[Any]) -> Iterable[tuple[Any, ...]]:
    # Column modifications come grouped in lists; everything else is one tuple.
    for diff in diffs:
        if isinstance(diff, list):
            yield from _flatten(diff)
        else:
            yield tuple(diff)


def _describe(diff: tuple[Any, ...]) -> str:
    operation, *details = diff
    words = [str(operation)]
    for detail in details:
        if detail is None or isinstance(detail, dict):
            continue
        name = getattr(detail, "name", None)
        words.append(str(name) if isinstance(name, str) else repr(detail))
    return " ".join(words)


async def new_revision_async(database_url: str, message: str) -> Path:
    """Autogenerate the next revision from the models (developer tool; DB must be at head)."""
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    rev_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    async with _connect(database_url) as connection:
        path = await connection.run_sync(_run_revision, config, message, rev_id)
    return path


def _run_revision(connection: Connection, config: Config, message: str, rev_id: str) -> Path:
    config.attributes["connection"] = connection
    created = command.revision(config, message, autogenerate=True, rev_id=rev_id)
    if created is None or isinstance(created, list):
        raise MigrationError("Alembic did not create exactly one revision")
    return Path(created.path)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError("called inside a running event loop: await the *_async variant instead")


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply pending migrations up to `revision` (default: the newest)."""
    _run(upgrade_async(database_url, revision))


def current(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    return _run(current_async(database_url))


def pending(database_url: str) -> bool:
    """True when the database is not at the code's head revision."""
    return _run(pending_async(database_url))


def check(database_url: str) -> list[str]:
    """Differences between the models and the migrated database; empty when in step."""
    return _run(check_async(database_url))


def new_revision(database_url: str, message: str) -> Path:
    """Autogenerate the next date-prefixed revision file against a database at head."""
    return _run(new_revision_async(database_url, message))
