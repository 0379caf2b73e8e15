"""Engine, URLs and connection settings (db.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from joule.storage.db import WRITE_INTENT, async_url, create_engine, is_sqlite
from joule.storage.models import BootRecord, Setting, Station


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./joule.db", "sqlite+aiosqlite:///./joule.db"),
        ("sqlite:////var/lib/joule/joule.db", "sqlite+aiosqlite:////var/lib/joule/joule.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        (
            "postgresql://user@db.example:5432/joule",
            "postgresql+asyncpg://user@db.example:5432/joule",
        ),
        ("postgres://user:pw@host/joule", "postgresql+asyncpg://user:pw@host/joule"),
        ("postgresql+asyncpg://user@host/joule", "postgresql+asyncpg://user@host/joule"),
        ("postgresql://u@h/j?sslmode=require", "postgresql+asyncpg://u@h/j?ssl=require"),
    ],
)
def test_contract_urls_map_to_async_drivers(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db", "oracle://u@h/db"]
)
def test_unsupported_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match=r"not supported|unsupported"):
        create_engine(url)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(ValueError) as raised:
        async_url("mysql://joule:s3cret@host/db")
    assert "s3cret" not in str(raised.value)


async def test_sqlite_connection_settings_are_durable(engine: AsyncEngine) -> None:
    if not is_sqlite(engine):
        pytest.skip("SQLite settings")
    async with engine.connect() as connection:
        settings = {
            pragma: (await connection.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
            for pragma in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "cache_size",
                "temp_store",
                "wal_autocheckpoint",
            )
        }
    # synchronous 2 = FULL: COMMIT returns only after fsync. cache_size < 0 is KiB (32 MiB, not
    # SQLite's 2 MiB: T3), temp_store 2 = MEMORY.
    assert settings == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "cache_size": -32 * 1024,
        "temp_store": 2,
        "wal_autocheckpoint": 16_000,  # a safety net: checkpoints run in the background
    }


async def test_sqlite_busy_timeout_is_configurable(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite settings")
    engine = create_engine(database_url, sqlite_busy_timeout_ms=250)
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 250
    finally:
        await engine.dispose()


async def test_is_sqlite_tells_the_backends_apart(engine: AsyncEngine, database_url: str) -> None:
    assert is_sqlite(engine) is database_url.startswith("sqlite")


async def test_foreign_keys_are_enforced(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            BootRecord(station_id="NOPE", at=now, reason=None, status="Accepted", payload={})
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_objects_stay_readable_after_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        station = Station(id="CS-1", created_at=datetime.now(UTC), quirks={})
        session.add(station)
        await session.commit()
    # expire_on_commit=False: no lazy load on a closed session.
    assert station.registration == "accepted"
    assert station.created_at.tzinfo is not None


async def test_sqlite_reads_see_one_snapshot(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    if not is_sqlite(engine):
        pytest.skip("PostgreSQL's default READ COMMITTED is not a snapshot per transaction")
    path = database_url.removeprefix("sqlite:///")
    async with sessions() as reader:
        count = select(func.count()).select_from(Setting)
        assert (await reader.execute(count)).scalar() == 0
        other = sqlite3.connect(path)
        other.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
        other.commit()
        other.close()
        # The BEGIN we emit makes the first SELECT pin the snapshot (sqlite3 alone would not).
        assert (await reader.execute(count)).scalar() == 0
    async with sessions() as fresh:
        assert (await fresh.execute(count)).scalar() == 1


async def test_sqlite_write_intent_takes_the_lock_up_front(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    if not is_sqlite(engine):
        pytest.skip("SQLite locking")
    path = database_url.removeprefix("sqlite:///")
    async with sessions() as writer:
        await writer.connection(execution_options=WRITE_INTENT)
        await writer.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
