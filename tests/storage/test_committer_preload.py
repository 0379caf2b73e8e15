"""Batch preload (committer.run(preload=...)): one query per model for the whole batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from joule.storage.committer import GroupCommitter
from joule.storage.models import Connector, Evse, Setting, Station
from joule.storage.uow import UnitOfWork


async def test_units_get_preloaded_rows_without_a_query_each(
    engine: AsyncEngine, committer: GroupCommitter
) -> None:
    async def seed(uow: UnitOfWork) -> None:
        uow.session.add_all(Setting(key=f"k{i}", value=f"v{i}") for i in range(5))

    await committer.run(seed)
    selects: list[str] = []

    def count(_conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)

    def bump(key: str):  # type: ignore[no-untyped-def]
        async def work(uow: UnitOfWork) -> str | None:
            row = await uow.session.get(Setting, key)
            if row is None:
                return None
            row.value += "!"
            return row.value

        return work

    keys = ["k0", "k1", "k2", "k3", "k4", "missing"]
    # Queued together, so they share one batch (the writer takes everything queued).
    results = await asyncio.gather(
        *(committer.run(bump(key), preload={Setting: (key,)}) for key in keys)
    )
    assert results == ["v0!", "v1!", "v2!", "v3!", "v4!", None]
    # The preload, and the get of the row that does not exist (absence is not remembered):
    # every row that was found came from the session, without a query of its own.
    assert len(selects) == 2, selects
    assert " IN " in selects[0] and " IN " not in selects[1]

    async def read(uow: UnitOfWork) -> list[str]:
        rows = [await uow.session.get(Setting, f"k{i}") for i in range(5)]
        return [row.value for row in rows if row is not None]

    assert await committer.read(read) == ["v0!", "v1!", "v2!", "v3!", "v4!"]


async def test_composite_keys_preload_as_tuples(
    engine: AsyncEngine, committer: GroupCommitter
) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)

    async def seed(uow: UnitOfWork) -> None:
        uow.session.add(Station(id="CP-9", registration="accepted", created_at=at))
        await uow.session.flush()
        uow.session.add(Evse(station_id="CP-9", evse_id=1))
        await uow.session.flush()
        uow.session.add(Connector(station_id="CP-9", evse_id=1, connector_id=1))

    await committer.run(seed)
    selects: list[str] = []

    def count(_conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)

    async def status(uow: UnitOfWork) -> str | None:
        connector = await uow.session.get(Connector, ("CP-9", 1, 1))
        assert await uow.session.get(Evse, ("CP-9", 1)) is not None
        assert connector is not None
        connector.status = "Available"
        return connector.status

    preload = {Connector: (("CP-9", 1, 1),), Evse: (("CP-9", 1),)}
    assert await committer.run(status, preload=preload) == "Available"
    assert len(selects) == 2, selects  # one per model, none per get
