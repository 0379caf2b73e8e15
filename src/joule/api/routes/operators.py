"""Operators: admins manage them; everyone can see themselves."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from joule.api.deps import AdminOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.operator import OperatorCreate, OperatorRead
from joule.domain.operator import service as operators

router = APIRouter(tags=["operators"])


@router.post("/operators", status_code=status.HTTP_201_CREATED)
async def create_operator(
    body: OperatorCreate, admin: AdminOperator, services: Services, db: Db
) -> OperatorRead:
    """Create an operator (admin only); a taken e-mail is 409."""
    draft = await operators.draft_operator(email=body.email, password=body.password, role=body.role)
    at = services.clock.now()
    created = await db.write(lambda s: operators.create_operator(s, draft, at=at))
    return OperatorRead.model_validate(created)


@router.get("/operators")
async def list_operators(admin: AdminOperator, db: Db, page: PageParams) -> Page[OperatorRead]:
    """Every operator (admin only)."""
    found, total = await db.read(
        lambda s: operators.list_operators(s, limit=page.limit, offset=page.offset)
    )
    items = [OperatorRead.model_validate(o) for o in found]
    return Page[OperatorRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/operators/me")
async def me(caller: CurrentOperator) -> OperatorRead:
    """The operator the token belongs to (an API key is not an operator: 404)."""
    if caller.operator is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="an API key has no operator account")
    return OperatorRead.model_validate(caller.operator)
