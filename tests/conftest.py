"""Shared fixtures: a real, migrated database per test.

The suite runs once per backend, chosen by JOULE_TEST_DB=sqlite|postgres (default sqlite).
PostgreSQL is reached at JOULE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets its own database cloned from a template migrated once per session (per pytest-xdist
worker: names carry the process id), made one test ahead and dropped after it on a thread.
Sub-directories add their own fixtures in their own conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from joule.kit import passwords
from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory

T = TypeVar("T")

TEST_DB = os.environ.get("JOULE_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("JOULE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# Real Argon2id, salted, at the cheapest cost: the production cost (64 MiB, 3 passes, 0.1-0.5 s a
# hash) made every admin created and every login in this process a CPU hog on a 2-core machine.
# Hashes made with any cost verify (the cost is in the hash); joule serve subprocesses keep theirs.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def free_port() -> int:
    """A loopback TCP port nobody holds now, for a server a test starts in a subprocess.

    Drawn at random below the kernel's ephemeral range: bind(port 0) and outgoing connections
    (of this and of the other test workers running at the same time) take ports from that
    range only, so nothing else takes this one before the subprocess binds it.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            ephemeral = int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    draw = random.SystemRandom()  # not the seeded global random: workers must draw apart
    for _ in range(200):
        port = draw.randrange(10_000, max(ephemeral, 10_001))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # someone holds it
            return port
    raise RuntimeError("no free TCP port below the ephemeral range")


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


class _PgClones:
    """Fresh clones of the template, made one test ahead and dropped behind, on a thread.

    CREATE DATABASE … TEMPLATE and DROP DATABASE cost about a second together (they write and
    fsync the whole database): done on this process's own thread and connection while tests
    run, they no longer add to each test's time. Every test still gets a clone of its own that
    no test used before. Clones are named after the process, so test workers never meet.
    """

    AHEAD = 1

    def __init__(self, template: str) -> None:
        self._template = template
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection | None = None
        self._ready: deque[Future[str]] = deque()
        self._drops: list[Future[None]] = []

    def _execute(self, statement: str) -> None:  # on the thread only
        async def execute() -> None:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(PG_ADMIN_URL)
            await self._connection.execute(statement)

        self._loop.run_until_complete(execute())

    def _clone(self) -> str:  # on the thread only
        name = f"joule_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def take(self) -> str:
        """The name of a fresh clone, only for the caller; the next one is started."""
        while len(self._ready) <= self.AHEAD:
            self._ready.append(self._thread.submit(self._clone))
        return self._ready.popleft().result()

    def drop(self, name: str) -> None:
        """Drop the clone behind the caller's back (errors come out at close)."""
        self._drops.append(self._thread.submit(self._execute, _drop_statement(name)))

    def close(self) -> None:
        """Drop the clones made ahead, wait for every drop; raise the first failure."""
        for ready in self._ready:
            try:
                self.drop(ready.result())
            except Exception as failure:  # the clone was never made: nothing to drop
                self._drops.append(self._thread.submit(_raise, failure))
        self._ready.clear()

        def disconnect() -> None:
            if self._connection is not None:
                self._loop.run_until_complete(self._connection.close())
            self._loop.close()

        closing = self._thread.submit(disconnect)
        self._thread.shutdown(wait=True)
        for drop in [*self._drops, closing]:
            drop.result()


def _raise(failure: BaseException) -> None:
    raise failure


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    name = f"joule_template_{os.getpid()}"
    _pg_admin(_drop_statement(name), f'CREATE DATABASE "{name}"')
    _off_loop(migrate.upgrade, _pg_url(name))
    yield name
    _pg_admin(_drop_statement(name))


@pytest.fixture(scope="session")
def _pg_clones(_pg_template: str) -> Iterator[_PgClones]:
    clones = _PgClones(_pg_template)
    try:
        yield clones
    finally:
        clones.close()


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
    clones: _PgClones = request.getfixturevalue("_pg_clones")
    name = clones.take()
    try:
        yield _pg_url(name)
    finally:
        clones.drop(name)


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
