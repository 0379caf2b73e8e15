"""Site registry verbs: the locations stations belong to (tariffs and load limits hang off them)."""

from __future__ import annotations

from datetime import datetime

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
) -> Site:
    """Insert a site (owned by `organisation_id`, inside the scope); a taken id is Conflict."""
    if not site_id or len(site_id) > MAX_SITE_ID_LENGTH or "/" in site_id:
        raise Invalid(f"a site id has 1 to {MAX_SITE_ID_LENGTH} characters and no '/'")
    # Tariff and report boundaries are computed in the site's zone (architecture: Time).
    check_timezone(timezone)
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
    site = Site(id=site_id, name=name, timezone=timezone, organisation_id=owner, created_at=at)
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
            changes={"name": name, "timezone": timezone, "organisation_id": owner},
            at=at,
        )
    return created


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
