"""Migration 0008: duplicate unresolved alerts are resolved, then a unique index forbids them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from joule.storage import migrate
from joule.storage.db import create_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

_ALERTS = sa.table(
    "alerts",
    *(sa.column(name) for name in ("rule", "target", "severity", "state", "message", "details")),
    sa.column("raised_at", sa.DateTime(timezone=True)),
    sa.column("last_seen_at", sa.DateTime(timezone=True)),
)


def _alert(target: str, state: str, minutes: int) -> dict[str, object]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "rule": "station_offline",
        "target": target,
        "severity": "critical",
        "state": state,
        "message": "offline",
        "details": "{}",
        "raised_at": at,
        "last_seen_at": at + timedelta(seconds=30),
    }


async def test_duplicates_are_resolved_and_then_refused(empty_database_url: str) -> None:
    await migrate.upgrade_async(empty_database_url, "0007")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            # Two evaluators raised CS-1 at once (one was acknowledged since); CS-2 has history.
            await connection.execute(
                sa.insert(_ALERTS),
                [
                    _alert("CS-1", "open", 0),
                    _alert("CS-1", "acknowledged", 1),
                    _alert("CS-2", "resolved", 0),
                    _alert("CS-2", "open", 2),
                ],
            )
        await migrate.upgrade_async(empty_database_url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT id, target, state, resolved_at FROM alerts ORDER BY id")
                )
            ).all()
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (1, "CS-1", "open"),
            (2, "CS-1", "resolved"),
            (3, "CS-2", "resolved"),
            (4, "CS-2", "open"),
        ]
        # The duplicate is resolved as of when it was last seen; nothing else was touched.
        assert str(rows[1][3]).startswith("2026-03-01 12:01:30")
        assert rows[0][3] is None and rows[3][3] is None
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(sa.insert(_ALERTS), [_alert("CS-2", "open", 3)])
        async with engine.begin() as connection:  # resolved history may repeat
            await connection.execute(sa.insert(_ALERTS), [_alert("CS-2", "resolved", 4)])
    finally:
        await engine.dispose()
    assert await migrate.check_async(empty_database_url) == []
