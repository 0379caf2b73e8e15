"""Site registry verbs: the locations stations belong to (tariffs and load limits hang off them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, site_condition
from joule.domain.audit import record
from joule.domain.registry.rules import check_timezone
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.storage.models import Organisation, Site
from joule.storage.repositories import listing

MAX_SITE_ID_LENGTH = 64  # the column size


async def create_site(
    session: AsyncSession,
    *,
    site_id: str,
    name: str,
    timezone: str,
    at: datetime,
    scope: Scope | None = None,
    organisation_id: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str | None = None,
) -> Site:
    """Insert a site (owned by `organisation_id`, inside the scope); a taken id is Conflict."""
    if not site_id or len(site_id) > MAX_SITE_ID_LENGTH or "/" in site_id:
        raise Invalid(f"a site id has 1 to {MAX_SITE_ID_LENGTH} characters and no '/'")
    # Tariff and report boundaries are computed in the site's zone (architecture: Time).
    check_timezone(timezone)
    check_position(latitude, longitude)
    if await listing.get_site(session, site_id) is not None:
        raise Conflict(f"site {site_id} already exists")
    owner = organisation_id
    if scope is not None:
        # Default: the caller's own organisation; never one outside its subtree (issue 5).
        owner = scope.organisation_id if organisation_id is None else organisation_id
        if (owner is None and not scope.is_root) or not scope.sees_organisation(owner):
            raise NotFound(f"organisation {owner} not found")
    if owner is not None and await session.get(Organisation, owner) is None:
        raise NotFound(f"organisation {owner} not found")
    site = Site(
        id=site_id,
        name=name,
        timezone=timezone,
        organisation_id=owner,
        latitude=latitude,
        longitude=longitude,
        address=address,
        created_at=at,
    )
    created = await listing.add_site(session, site)
    if scope is not None:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=owner,
            action="site.create",
            object_type="site",
            object_id=site_id,
            changes={
                "name": name,
                "timezone": timezone,
                "organisation_id": owner,
                "latitude": latitude,
                "longitude": longitude,
                "address": address,
            },
            at=at,
        )
    return created


def check_position(latitude: float | None, longitude: float | None) -> None:
    """Raise Invalid unless the coordinates are WGS 84 degrees in range (a half position is none:
    the map places a site by both)."""
    if (latitude is None) != (longitude is None):
        raise Invalid("give both latitude and longitude, or neither")
    if latitude is not None and not -90 <= latitude <= 90:
        raise Invalid(f"latitude {latitude} is outside -90 … 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise Invalid(f"longitude {longitude} is outside -180 … 180")


EDITABLE = ("name", "timezone", "organisation_id", "latitude", "longitude", "address")


async def update_site(
    session: AsyncSession,
    site_id: str,
    changes: dict[str, Any],
    *,
    scope: Scope,
    at: datetime,
) -> Site:
    """Change a site's name, zone, owner, position or address; audited with what changed.

    NotFound when the site or the new owner is outside the scope (issue 5: 404, never 403).
    """
    site = await get_site(session, site_id, scope=scope)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Invalid(f"a site has no editable field {', '.join(unknown)}")
    if "name" in changes and not changes["name"]:
        raise Invalid("a site needs a name")
    if "timezone" in changes:
        if changes["timezone"] is None:
            raise Invalid("a site needs a time zone")
        check_timezone(changes["timezone"])
    latitude = changes.get("latitude", site.latitude)
    longitude = changes.get("longitude", site.longitude)
    check_position(latitude, longitude)
    if "organisation_id" in changes:
        owner = changes["organisation_id"]
        if (owner is None and not scope.is_root) or not scope.sees_organisation(owner):
            raise NotFound(f"organisation {owner} not found")
        if owner is not None and await session.get(Organisation, owner) is None:
            raise NotFound(f"organisation {owner} not found")
    done = {k: v for k, v in changes.items() if getattr(site, k) != v}
    for name, value in done.items():
        setattr(site, name, value)
    if done:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=site.organisation_id,
            action="site.update",
            object_type="site",
            object_id=site_id,
            changes=done,
            at=at,
        )
    return site


async def get_site(session: AsyncSession, site_id: str, *, scope: Scope | None = None) -> Site:
    """The site with this id; NotFound when unknown or outside `scope`."""
    site = await listing.get_site(session, site_id)
    if site is None or (
        scope is not None
        and scope.role_at(organisation_id=site.organisation_id, site_id=site.id) is None
    ):
        raise NotFound(f"site {site_id} does not exist")
    return site


async def list_sites(
    session: AsyncSession, *, limit: int, offset: int, scope: Scope | None = None
) -> tuple[list[Site], int]:
    """A page of sites (inside `scope`) and the total count."""
    visible = None if scope is None else site_condition(scope)
    return await listing.list_sites(session, limit=limit, offset=offset, visible=visible)
