"""A station's uptime over a period (reporting.md §3: NEVI formula from the status history)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import CurrentOperator, Db, Services
from joule.api.schemas.common import UtcDatetime, as_utc
from joule.domain.registry import stations
from joule.domain.reporting import uptime
from joule.kit.errors import Invalid

router = APIRouter(tags=["stations"])

DEFAULT_DAYS = 30
MAX_DAYS = 400  # a trailing year (NEVI reports 12 months) plus slack


class UptimeFigures(BaseModel):
    """Seconds in the period, out, out but excluded, and the uptime in percent (2 decimals)."""

    uptime_percent: Decimal | None
    period_s: Decimal
    outage_s: Decimal
    excluded_s: Decimal


class PortUptime(UptimeFigures):
    """One port (EVSE)."""

    evse_id: int


class StationUptimeRead(UptimeFigures):
    """A station's uptime: its ports together (port-time weighted) and each port."""

    station_id: str
    from_: UtcDatetime = Field(serialization_alias="from")
    to: UtcDatetime
    ports: list[PortUptime]


def _figures(u: uptime.Uptime) -> dict[str, Decimal | None]:
    return {
        "uptime_percent": u.rounded(),
        "period_s": u.period_s,
        "outage_s": u.outage_s,
        "excluded_s": u.excluded_s,
    }


@router.get("/stations/{station_id}/uptime")
async def station_uptime(
    station_id: str,
    _: CurrentOperator,
    db: Db,
    services: Services,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> StationUptimeRead:
    """Uptime over [from, to) (default: the last 30 days); a port counts from its first status."""
    end = as_utc(until) if until else services.clock.now()
    start = as_utc(since) if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise Invalid("from must be before to")
    if end - start > timedelta(days=MAX_DAYS):
        raise Invalid(f"the period may span at most {MAX_DAYS} days")

    async def work(session: AsyncSession) -> uptime.StationUptime:
        await stations.get_station(session, station_id)  # NotFound → 404
        found = await uptime.station_uptimes(
            session, since=start, until=end, station_ids=[station_id]
        )
        return found.get(station_id, uptime.StationUptime(station_id))

    result = await db.read(work)
    return StationUptimeRead(
        station_id=station_id,
        from_=start,
        to=end,
        ports=[PortUptime(evse_id=e, **_figures(u)) for e, u in sorted(result.ports.items())],
        **_figures(result.total),
    )
