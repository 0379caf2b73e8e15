"""Site and station access modes: public, private, mixed (issue 5)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from joule.api.deps import CommandOperator, Services
from joule.api.schemas.group import AccessModeRead, AccessModeSet
from joule.domain.authorization import modes
from joule.storage.models import Site, Station
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["access"])


@router.put("/sites/{site_id}/access-mode")
async def set_site_access_mode(
    site_id: str, body: AccessModeSet, caller: CommandOperator, services: Services
) -> AccessModeRead:
    """Public (any valid token of the network), private (listed groups), mixed (private hours)."""
    if body.access_mode is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="a site's access_mode is public, private or mixed",
        )
    mode = body.access_mode
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> Site:
        return await modes.set_site_mode(uow, caller.scope, site_id, mode, at=at)

    site = await services.committer.run(work)
    return AccessModeRead(id=site.id, access_mode=site.access_mode)


@router.put("/stations/{station_id}/access-mode")
async def set_station_access_mode(
    station_id: str, body: AccessModeSet, caller: CommandOperator, services: Services
) -> AccessModeRead:
    """Override the station's access mode; null follows its site's."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> Station:
        return await modes.set_station_mode(uow, caller.scope, station_id, body.access_mode, at=at)

    station = await services.committer.run(work)
    return AccessModeRead(id=station.id, access_mode=station.access_mode)
