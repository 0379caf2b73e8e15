"""Site registry verbs: the locations stations belong to (tariffs and load limits hang off them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.registry.rules import check_timezone
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.storage.models import Site
from joule.storage.repositories import listing

MAX_SITE_ID_LENGTH = 64  # the column size


async def create_site(
    session: AsyncSession, *, site_id: str, name: str, timezone: str, at: datetime
) -> Site:
    """Insert a site; an id that is taken raises Conflict."""
    if not site_id or len(site_id) > MAX_SITE_ID_LENGTH or "/" in site_id:
        raise Invalid(f"a site id has 1 to {MAX_SITE_ID_LENGTH} characters and no '/'")
    # Tariff and report boundaries are computed in the site's zone (architecture: Time).
    check_timezone(timezone)
    if await listing.get_site(session, site_id) is not None:
        raise Conflict(f"site {site_id} already exists")
    site = Site(id=site_id, name=name, timezone=timezone, created_at=at)
    return await listing.add_site(session, site)


async def get_site(session: AsyncSession, site_id: str) -> Site:
    """The site with this id; NotFound when unknown."""
    site = await listing.get_site(session, site_id)
    if site is None:
        raise NotFound(f"site {site_id} does not exist")
    return site


async def list_sites(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[Site], int]:
    """A page of sites and the total count."""
    return await listing.list_sites(session, limit=limit, offset=offset)
