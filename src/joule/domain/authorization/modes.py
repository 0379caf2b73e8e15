"""Site and station access modes: public, private (listed groups only), mixed (private hours)."""

from __future__ import annotations

from datetime import datetime

from joule.domain.access.scope import Scope, site_role, station_owner, station_role
from joule.domain.authorization.rules import ACCESS_MODES
from joule.domain.driver.ownership import changed
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import Site, Station
from joule.storage.uow import UnitOfWork


def _mode(mode: str) -> str:
    if mode not in ACCESS_MODES:
        raise Invalid(f"unknown access mode {mode!r} (one of {', '.join(ACCESS_MODES)})")
    return mode


async def set_site_mode(
    uow: UnitOfWork, scope: Scope, site_id: str, mode: str, *, at: datetime
) -> Site:
    """Set the access mode of a site (its stations follow unless they override it)."""
    session = uow.session
    site = await session.get(Site, site_id)
    if site is None or await site_role(session, scope, site_id) is None:
        raise NotFound(f"site {site_id} does not exist")
    before, site.access_mode = site.access_mode, _mode(mode)
    await session.flush()
    changed(
        uow,
        scope,
        organisation_id=site.organisation_id,
        action="site.access_mode",
        object_type="site",
        object_id=site.id,
        changes={"access_mode": [before, site.access_mode]},
        reason=f"site {site.id} access mode {site.access_mode}",
        at=at,
    )
    return site


async def set_station_mode(
    uow: UnitOfWork, scope: Scope, station_id: str, mode: str | None, *, at: datetime
) -> Station:
    """Override a station's access mode (None: follow its site's)."""
    session = uow.session
    station = await session.get(Station, station_id)
    if station is None or await station_role(session, scope, station_id) is None:
        raise NotFound(f"station {station_id} not found")
    before, station.access_mode = station.access_mode, _mode(mode) if mode is not None else None
    await session.flush()
    owner = await station_owner(session, station_id)
    changed(
        uow,
        scope,
        organisation_id=owner.organisation_id if owner is not None else None,
        action="station.access_mode",
        object_type="station",
        object_id=station.id,
        changes={"access_mode": [before, station.access_mode]},
        reason=f"station {station.id} access mode {station.access_mode}",
        at=at,
    )
    return station
