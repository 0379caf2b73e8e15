"""Shared fixtures: a real, migrated database per test.

The suite runs once per backend, chosen by JOULE_TEST_DB=sqlite|postgres (default sqlite).
PostgreSQL is reached at JOULE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets its own database cloned from a template migrated once per session.
Sub-directories add their own fixtures in their own conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory

T = TypeVar("T")

TEST_DB = os.environ.get("JOULE_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("JOULE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DB not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"JOULE_TEST_DB must be sqlite or postgres, not {TEST_DB!r}")


def pytest_report_header(config: pytest.Config) -> str:
    return f"joule test database: {TEST_DB}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DB == "postgres":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with JOULE_TEST_DB=postgres")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run blocking set-up (asyncio.run inside) on a worker thread, away from the test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _pg_admin(*statements: str) -> None:
    async def execute() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    _off_loop(asyncio.run, execute())


def _drop_statement(database: str) -> str:
    # FORCE terminates whatever still holds a connection (a test that forgot to dispose).
    return f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "joule.db"
    _off_loop(migrate.upgrade, f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    name = f"joule_template_{os.getpid()}"
    _pg_admin(_drop_statement(name), f'CREATE DATABASE "{name}"')
    _off_loop(migrate.upgrade, _pg_url(name))
    yield name
    _pg_admin(_drop_statement(name))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database of the selected backend, migrated to head."""
    if TEST_DB == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "joule.db"
        shutil.copyfile(template, path)
        wal = template.with_name(template.name + "-wal")
        if wal.exists():  # normally checkpointed away when the migration engine closed
            shutil.copyfile(wal, path.with_name(path.name + "-wal"))
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("_pg_template")
    name = f"joule_test_{uuid.uuid4().hex[:16]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(_drop_statement(name))


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, never-migrated database of the selected backend."""
    if TEST_DB == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"joule_test_{uuid.uuid4().hex[:16]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(_drop_statement(name))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's migrated database, disposed after the test."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory the application would use."""
    return session_factory(engine)


@pytest.fixture
async def committer(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[GroupCommitter]:
    """A started group committer, stopped (drained) after the test."""
    committer = GroupCommitter(sessions)
    await committer.start()
    try:
        yield committer
    finally:
        await committer.stop(timeout=10)
