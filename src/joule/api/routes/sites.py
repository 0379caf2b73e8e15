"""Sites: the locations stations belong to."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from joule.api.deps import CommandOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.site import SiteCreate, SiteRead, SiteUpdate
from joule.domain.access.scope import site_role
from joule.domain.operator.rules import may_change
from joule.domain.registry import sites
from joule.kit.errors import NotFound

router = APIRouter(tags=["sites"])


@router.post("/sites", status_code=status.HTTP_201_CREATED)
async def create_site(
    body: SiteCreate, operator: CommandOperator, services: Services, db: Db
) -> SiteRead:
    """Create a site in the caller's organisation (or organisation_id of its subtree); audited."""
    at = services.clock.now()
    scope = operator.scope
    site = await db.write(
        lambda s: sites.create_site(
            s,
            site_id=body.id,
            name=body.name,
            timezone=body.timezone,
            at=at,
            scope=scope,
            organisation_id=body.organisation_id,
            latitude=body.latitude,
            longitude=body.longitude,
            address=body.address,
        )
    )
    return SiteRead.model_validate(site)


@router.patch("/sites/{site_id}")
async def update_site(
    site_id: str, body: SiteUpdate, operator: CurrentOperator, services: Services, db: Db
) -> SiteRead:
    """Change a site's name, time zone, owner, position or address; audited.

    A caller who may change nothing anywhere (a viewer without an operator grant) is 403 at
    once, like every change endpoint; otherwise another organisation's site is 404 and on a
    visible one the role there (organisation role or site grant, docs/roles.md) decides.
    """
    at, scope = services.clock.now(), operator.scope
    if not (scope.may_change or any(may_change(g.role) for g in scope.site_grants)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {scope.role} may only read")
    role = await db.read(lambda s: site_role(s, scope, site_id))
    if role is None:
        raise NotFound(f"site {site_id} does not exist")
    if not may_change(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {role} may only read")
    changes = body.changes()
    site = await db.write(lambda s: sites.update_site(s, site_id, changes, scope=scope, at=at))
    return SiteRead.model_validate(site)


@router.get("/sites")
async def list_sites(operator: CurrentOperator, db: Db, page: PageParams) -> Page[SiteRead]:
    """The sites the caller sees (its organisations' and granted ones), ordered by id."""
    found, total = await db.read(
        lambda s: sites.list_sites(s, limit=page.limit, offset=page.offset, scope=operator.scope)
    )
    items = [SiteRead.model_validate(site) for site in found]
    return Page[SiteRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/sites/{site_id}")
async def get_site(site_id: str, operator: CurrentOperator, db: Db) -> SiteRead:
    """One site; 404 outside the caller's scope."""
    site = await db.read(lambda s: sites.get_site(s, site_id, scope=operator.scope))
    return SiteRead.model_validate(site)
