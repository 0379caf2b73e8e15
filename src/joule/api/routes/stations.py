"""Stations: register, list, look at and change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from joule.api.deps import CommandOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.station import RegistrationName, StationCreate, StationRead, StationUpdate
from joule.domain.registry import stations

router = APIRouter(tags=["stations"])


@router.post("/stations", status_code=status.HTTP_201_CREATED)
async def create_station(
    body: StationCreate, operator: CommandOperator, services: Services, db: Db
) -> StationRead:
    """Register a station; a taken id is 409, a bad id or password 422."""
    draft = await stations.draft_station(
        station_id=body.id,
        password=body.password,
        security_profile=body.security_profile,
        registration=body.registration,
        site_id=body.site_id,
        timezone=body.timezone,
        assume_subprotocol=body.assume_subprotocol,
        lenient=body.lenient,
    )
    at, scope = services.clock.now(), operator.scope
    view = await db.write(
        lambda s: stations.register_station(
            s, draft, at=at, scope=scope, organisation_id=body.organisation_id
        )
    )
    return StationRead.of(view)


@router.get("/stations")
async def list_stations(
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    online: bool | None = None,
    registration: Annotated[RegistrationName | None, Query()] = None,
    site_id: str | None = None,
    ocpp_version: Annotated[str | None, Query(examples=["1.6", "2.0.1", "2.1"])] = None,
) -> Page[StationRead]:
    """Stations ordered by id, with their connectors, filtered by the given fields."""
    found, total = await db.read(
        lambda s: stations.list_stations(
            s,
            online=online,
            registration=registration,
            site_id=site_id,
            ocpp_version=ocpp_version,
            limit=page.limit,
            offset=page.offset,
            scope=operator.scope,
        )
    )
    items = [StationRead.of(view) for view in found]
    return Page[StationRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}")
async def get_station(station_id: str, operator: CurrentOperator, db: Db) -> StationRead:
    """One station with its connectors."""
    view = await db.read(lambda s: stations.get_station(s, station_id))
    return StationRead.of(view)


@router.patch("/stations/{station_id}")
async def update_station(
    station_id: str, body: StationUpdate, operator: CommandOperator, services: Services, db: Db
) -> StationRead:
    """Approve or reject a station, change its password, profile, site or quirk options."""
    changes = await stations.draft_changes(**body.changes())
    at, scope = services.clock.now(), operator.scope
    view = await db.write(
        lambda s: stations.update_station(s, station_id, changes, scope=scope, at=at)
    )
    return StationRead.of(view)
