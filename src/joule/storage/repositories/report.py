"""SQL to read back station-initiated reports (station_reports) by the request that asked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import StationReport


async def reports_for_request(
    session: AsyncSession, station_id: str, *, action: str, request_id: int
) -> list[StationReport]:
    """The parts a station sent for one requestId, in arrival order."""
    query = (
        select(StationReport)
        .where(
            StationReport.station_id == station_id,
            StationReport.action == action,
            StationReport.request_id == request_id,
        )
        .order_by(StationReport.id)
    )
    return list((await session.scalars(query)).all())
