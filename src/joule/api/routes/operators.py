"""Operators: admins manage those of their organisation subtree; everyone sees themselves."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import AdminOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.operator import (
    OperatorCreate,
    OperatorRead,
    OperatorUpdate,
    SiteGrantBody,
)
from joule.domain.operator import service as operators
from joule.storage.models import Operator, OperatorSiteGrant

router = APIRouter(tags=["operators"])


def _read(operator: Operator, grants: list[OperatorSiteGrant]) -> OperatorRead:
    return OperatorRead(
        id=operator.id,
        email=operator.email,
        role=operator.role,
        active=operator.active,
        organisation_id=operator.organisation_id,
        site_grants=[SiteGrantBody(site_id=g.site_id, role=g.role) for g in grants],
        created_at=operator.created_at,
    )


@router.post("/operators", status_code=status.HTTP_201_CREATED)
async def create_operator(
    body: OperatorCreate, admin: AdminOperator, services: Services, db: Db
) -> OperatorRead:
    """Create an operator in the admin's subtree (admin only); a taken e-mail is 409."""
    draft = await operators.draft_operator(email=body.email, password=body.password, role=body.role)
    grants = operators.parse_grants([(g.site_id, g.role) for g in body.site_grants])
    at, scope = services.clock.now(), admin.scope

    async def work(s: AsyncSession) -> tuple[Operator, list[OperatorSiteGrant]]:
        created = await operators.create_scoped_operator(
            s, scope, draft, organisation_id=body.organisation_id, grants=grants, at=at
        )
        return created, await operators.site_grants(s, created.id)

    created, created_grants = await db.write(work)
    return _read(created, created_grants)


@router.get("/operators")
async def list_operators(admin: AdminOperator, db: Db, page: PageParams) -> Page[OperatorRead]:
    """The operators of the admin's subtree (root admins: every operator)."""
    scope = admin.scope

    async def work(s: AsyncSession) -> tuple[list[OperatorRead], int]:
        found, total = await operators.list_scoped_operators(
            s, scope, limit=page.limit, offset=page.offset
        )
        return [_read(o, await operators.site_grants(s, o.id)) for o in found], total

    items, total = await db.read(work)
    return Page[OperatorRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/operators/me")
async def me(caller: CurrentOperator, db: Db) -> OperatorRead:
    """The operator the token belongs to (an API key is not an operator: 404)."""
    if caller.operator is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="an API key has no operator account")
    operator = caller.operator
    grants = await db.read(lambda s: operators.site_grants(s, operator.id))
    return _read(operator, grants)


@router.get("/operators/{operator_id}")
async def get_operator(operator_id: int, admin: AdminOperator, db: Db) -> OperatorRead:
    """One operator of the admin's subtree; 404 outside it."""
    scope = admin.scope

    async def work(s: AsyncSession) -> OperatorRead:
        found = await operators.get_scoped_operator(s, scope, operator_id)
        return _read(found, await operators.site_grants(s, found.id))

    return await db.read(work)


@router.patch("/operators/{operator_id}")
async def update_operator(
    operator_id: int, body: OperatorUpdate, admin: AdminOperator, services: Services, db: Db
) -> OperatorRead:
    """Change role, activity (deactivation signs out at once) or site grants; audited."""
    changes = body.changes()
    grants = (
        operators.parse_grants([(g["site_id"], g["role"]) for g in changes["site_grants"]])
        if "site_grants" in changes
        else None
    )
    at, scope = services.clock.now(), admin.scope

    async def work(s: AsyncSession) -> OperatorRead:
        found = await operators.update_scoped_operator(
            s,
            scope,
            operator_id,
            role=changes.get("role"),
            active=changes.get("active"),
            grants=grants,
            at=at,
        )
        return _read(found, await operators.site_grants(s, found.id))

    return await db.write(work)
