"""The gateway's access lookup (repositories/station.access_rows): one statement, built once."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from joule.storage.repositories.station import access_rows, create_station


async def test_access_rows_reads_the_asked_stations_and_leaves_no_cyclic_garbage(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        for index in range(6):
            await create_station(
                session,
                station_id=f"AR-{index}",
                registration="accepted" if index % 2 else "pending",
                security_profile=index % 3,
                at=datetime.now(UTC),
            )
        await session.commit()
    async with sessions() as session:
        rows = await access_rows(session, ["AR-3", "AR-1", "AR-1", "AR-404"])
        assert [(r.station_id, r.registration, r.security_profile) for r in rows] == [
            ("AR-1", "accepted", 1),
            ("AR-3", "accepted", 0),
        ]
        assert await access_rows(session, []) == []
        for index in range(6):  # warm: compiled-statement cache, result metadata
            await access_rows(session, [f"AR-{index}", f"AR-{(index + 1) % 6}"])
        # Every connect runs this lookup (T7, T8): a statement built per call left ~10 objects
        # per call that only the cyclic collector frees; the prebuilt one leaves none.
        gc.collect()
        gc.disable()
        try:
            for index in range(100):
                await access_rows(session, [f"AR-{index % 6}", f"AR-{(index + 2) % 6}"])
            garbage = gc.collect()
        finally:
            gc.enable()
        assert garbage < 100, f"{garbage} cyclic objects after 100 lookups"
