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
    """Create a site; a taken id is 409, an unknown time zone 422."""
    at = services.clock.now()
    site = await db.write(
        lambda s: sites.create_site(
            s, site_id=body.id, name=body.name, timezone=body.timezone, at=at
        )
    )
    return SiteRead.model_validate(site)


@router.get("/sites")
async def list_sites(operator: CurrentOperator, db: Db, page: PageParams) -> Page[SiteRead]:
    """Sites ordered by id."""
    found, total = await db.read(
        lambda s: sites.list_sites(s, limit=page.limit, offset=page.offset)
    )
    items = [SiteRead.model_validate(site) for site in found]
    return Page[SiteRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/sites/{site_id}")
async def get_site(site_id: str, operator: CurrentOperator, db: Db) -> SiteRead:
    """One site."""
    site = await db.read(lambda s: sites.get_site(s, site_id))
    return SiteRead.model_validate(site)
