"""Organisations: admins create and change them inside their own subtree; everyone reads theirs."""

from __future__ import annotations

from fastapi import APIRouter, status

from joule.api.deps import AdminOperator, CurrentScope, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.organisation import (
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
)
from joule.domain.organisation import service as organisations

router = APIRouter(tags=["organisations"])


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
async def create_organisation(
    body: OrganisationCreate, admin: AdminOperator, services: Services, db: Db
) -> OrganisationRead:
    """Create an organisation below the admin's own (or below parent_id, inside the subtree)."""
    at, scope = services.clock.now(), admin.scope
    created = await db.write(
        lambda s: organisations.create_organisation(
            s, scope, organisation_id=body.id, name=body.name, parent_id=body.parent_id, at=at
        )
    )
    return OrganisationRead.model_validate(created)


@router.get("/organisations")
async def list_organisations(
    scope: CurrentScope, db: Db, page: PageParams
) -> Page[OrganisationRead]:
    """The organisations the caller sees: its own and every one below it."""
    found, total = await db.read(
        lambda s: organisations.list_organisations(s, scope, limit=page.limit, offset=page.offset)
    )
    items = [OrganisationRead.model_validate(o) for o in found]
    return Page[OrganisationRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/organisations/{organisation_id}")
async def get_organisation(organisation_id: str, scope: CurrentScope, db: Db) -> OrganisationRead:
    """One organisation; 404 outside the caller's subtree."""
    found = await db.read(lambda s: organisations.get_visible(s, scope, organisation_id))
    return OrganisationRead.model_validate(found)


@router.patch("/organisations/{organisation_id}")
async def update_organisation(
    organisation_id: str,
    body: OrganisationUpdate,
    admin: AdminOperator,
    services: Services,
    db: Db,
) -> OrganisationRead:
    """Rename an organisation or move it inside the subtree (never into its own descendants)."""
    at, scope, changes = services.clock.now(), admin.scope, body.changes()
    found = await db.write(
        lambda s: organisations.update_organisation(
            s, scope, organisation_id, changes=changes, at=at
        )
    )
    return OrganisationRead.model_validate(found)
