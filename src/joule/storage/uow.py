"""The unit of work: one database transaction shared by a batch of operations.

Repositories never commit; the committer (storage/committer.py) commits at the edge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import Base


class UnitOfWork:
    """A session plus deferred bulk inserts and domain events to publish after commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[object] = []
        self._bulk: dict[type[Base], list[dict[str, Any]]] = {}

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
