"""Reports: energy delivered per local calendar day (issue 4), of a station, a site, the network."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import CurrentCaller, Db, Services
from joule.api.schemas.common import exact, whole_wh
from joule.domain.access.scope import site_role
from joule.domain.reporting import energy
from joule.kit.errors import NotFound

router = APIRouter(tags=["reports"])

Days = Annotated[
    int,
    Query(ge=1, le=energy.MAX_DAYS, description="how many local days, today included"),
]


class DayEnergyRead(BaseModel):
    """One local calendar day: the energy of the sessions that started on it (exact Wh)."""

    day: date
    energy_wh: int = Field(description="Wh rounded half-up")
    energy_wh_exact: str = Field(description="the exact Wh as a decimal string")
    sessions: int


class EnergyPerDayRead(BaseModel):
    """Every day of the window, oldest first; days without sessions at 0."""

    station_id: str | None = None
    site_id: str | None = None
    timezone: str  # the zone naming the days; "mixed" for a network across several zones
    total_wh: int = Field(description="Wh of the whole window, rounded half-up")
    total_wh_exact: str
    days: list[DayEnergyRead]


def _whole(wh: Decimal) -> int:
    return whole_wh(wh) or 0


def _exact(wh: Decimal) -> str:
    return exact(wh) or "0"


def _read(
    result: energy.EnergyPerDay, *, station_id: str | None = None, site_id: str | None = None
) -> EnergyPerDayRead:
    return EnergyPerDayRead(
        station_id=station_id,
        site_id=site_id,
        timezone=result.timezone,
        total_wh=_whole(result.total_wh),
        total_wh_exact=_exact(result.total_wh),
        days=[
            DayEnergyRead(
                day=d.day, energy_wh=_whole(d.wh), energy_wh_exact=_exact(d.wh), sessions=d.sessions
            )
            for d in result.days
        ],
    )


@router.get("/stations/{station_id}/energy-per-day")
async def station_energy_per_day(
    station_id: str,
    caller: CurrentCaller,
    db: Db,
    services: Services,
    days: Days = energy.DEFAULT_DAYS,
) -> EnergyPerDayRead:
    """The station's energy per day in its site's time zone (UTC without a site); a session
    counts whole on the day it started. 404 for a station outside the caller's scope."""
    now, scope = services.clock.now(), caller.scope
    result = await db.read(
        lambda s: energy.energy_per_day(s, now=now, days=days, station_id=station_id, scope=scope)
    )
    return _read(result, station_id=station_id)


@router.get("/reports/energy-per-day")
async def energy_per_day(
    caller: CurrentCaller,
    db: Db,
    services: Services,
    site_id: Annotated[str | None, Query(description="one site; without it, the network")] = None,
    days: Days = energy.DEFAULT_DAYS,
) -> EnergyPerDayRead:
    """Energy per day of one site (its time zone) or of every station the caller sees (each
    session on its own site's local day). 404 for a site outside the caller's scope."""
    now, scope = services.clock.now(), caller.scope

    async def work(session: AsyncSession) -> energy.EnergyPerDay:
        if site_id is not None and await site_role(session, scope, site_id) is None:
            raise NotFound(f"site {site_id} does not exist")
        return await energy.energy_per_day(
            session, now=now, days=days, site_id=site_id, scope=scope
        )

    return _read(await db.read(work), site_id=site_id)
