"""Migrations (migrate.py): empty database to head, in step with the models, idempotent."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from joule.storage import migrate
from joule.storage.db import create_engine


def test_empty_database_upgrades_to_head(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No alembic.ini anywhere near: the configuration travels with the package.
    monkeypatch.chdir(tmp_path)
    assert migrate.current(empty_database_url) is None
    assert migrate.pending(empty_database_url)
    assert "add_table stations" in migrate.check(empty_database_url)

    migrate.upgrade(empty_database_url)

    assert migrate.current(empty_database_url) == migrate.head()
    assert not migrate.pending(empty_database_url)
    assert migrate.check(empty_database_url) == []


def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert migrate.current(empty_database_url) == migrate.head()
    assert migrate.check(empty_database_url) == []


def test_upgrade_to_a_named_revision(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0001")
    assert migrate.current(empty_database_url) == "0001"


def test_nodes_starting_together_migrate_once(empty_database_url: str) -> None:
    # The second migrator waits for the first (advisory lock / BEGIN IMMEDIATE), then finds
    # nothing to do, instead of failing on tables that already exist.
    with ThreadPoolExecutor(max_workers=3) as pool:
        for outcome in [pool.submit(migrate.upgrade, empty_database_url) for _ in range(3)]:
            outcome.result()
    assert migrate.current(empty_database_url) == migrate.head()
    assert migrate.check(empty_database_url) == []


def test_fixture_database_is_at_head(database_url: str) -> None:
    assert migrate.current(database_url) == migrate.head()
    assert migrate.check(database_url) == []


async def test_check_reports_drift(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_meter_values_tx_ts"))
    await engine.dispose()
    assert await migrate.check_async(database_url) == ["add_index ix_meter_values_tx_ts"]


async def test_sync_api_refuses_to_block_a_running_loop(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="_async"):
        migrate.current(database_url)
    assert await migrate.current_async(database_url) == migrate.head()
    assert not await migrate.pending_async(database_url)
    await migrate.upgrade_async(database_url)


def test_revision_files_are_date_prefixed_and_linear() -> None:
    versions = migrate.MIGRATIONS_DIR / "versions"
    files = sorted(p.name for p in versions.glob("*.py") if p.name != "__init__.py")
    assert files, "no migrations shipped"
    for name in files:
        assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}_\w+\.py", name), name
    assert migrate.head() == files[-1].split("_")[3]
