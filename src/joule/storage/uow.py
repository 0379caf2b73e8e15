"""The unit of work: one database transaction shared by a batch of operations.

Repositories never commit; the committer (storage/committer.py) commits at the edge.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import Base


class UnitOfWork:
    """A session plus deferred bulk inserts and domain events to publish after commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[object] = []
        self._bulk: dict[type[Base], list[dict[str, Any]]] = {}
        # The session's identity map holds clean objects weakly: keep preloaded rows alive.
        self._preloaded: list[Base] = []

    async def preload(self, model: type[Base], keys: Collection[Any]) -> None:
        """Load rows by primary key in one query, so later gets in this unit need no SQL."""
        if not keys:
            return
        (column,) = inspect(model).primary_key  # single-column keys only
        # No autoflush: a primary-key lookup does not depend on pending changes.
        with self.session.no_autoflush:
            rows = await self.session.scalars(select(model).where(column.in_(list(keys))))
            self._preloaded.extend(rows)

    def bulk_insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Queue rows for one executemany per table at flush time (T10: no single-row commits)."""
        if rows:
            self._bulk.setdefault(model, []).extend(rows)

    def emit(self, event: object) -> None:
        """Queue a domain event; it is published only once the data is durable."""
        self.events.append(event)

    async def flush(self) -> None:
        """Write queued bulk rows and pending ORM changes (no commit)."""
        await self.session.flush()
        bulk, self._bulk = self._bulk, {}
        for model, rows in bulk.items():
            # One executemany per distinct column set: rows with and without e.g. `phase`
            # interleave, and an executemany needs identical keys (Core insert, no ORM overhead).
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                groups.setdefault(tuple(row), []).append(row)
            table = model.__table__
            assert isinstance(table, Table)
            for group in groups.values():
                await self.session.execute(insert(table), group)
