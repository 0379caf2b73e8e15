"""Sites: the locations stations belong to."""

from __future__ import annotations

from fastapi import APIRouter, status

from joule.api.deps import CommandOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.site import SiteCreate, SiteRead
from joule.domain.registry import sites

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
        )
    )
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
