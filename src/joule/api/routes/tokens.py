"""Id tokens: the id tags (1.6) / id tokens (2.x) drivers present."""

from __future__ import annotations

from fastapi import APIRouter, status

from joule.api.deps import CommandOperator, CurrentOperator, Db, PageParams, Services
from joule.api.schemas.common import Page, as_utc
from joule.api.schemas.token import IdTokenCreate, IdTokenRead, IdTokenUpdate
from joule.domain.registry import tokens
from joule.domain.registry.tokens import TokenChanges

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    body: IdTokenCreate, operator: CommandOperator, services: Services, db: Db
) -> IdTokenRead:
    """Register an id token; a uid that exists (any letter case) is 409."""
    at = services.clock.now()
    token = await db.write(
        lambda s: tokens.create_token(
            s,
            uid=body.uid,
            status=body.status,
            type=body.type,
            expiry=as_utc(body.expiry) if body.expiry else None,
            group_id=body.group_id,
            max_concurrent=body.max_concurrent,
            at=at,
        )
    )
    return IdTokenRead.model_validate(token)


@router.get("/tokens")
async def list_tokens(operator: CurrentOperator, db: Db, page: PageParams) -> Page[IdTokenRead]:
    """Id tokens ordered by uid."""
    found, total = await db.read(
        lambda s: tokens.list_tokens(s, limit=page.limit, offset=page.offset)
    )
    items = [IdTokenRead.model_validate(t) for t in found]
    return Page[IdTokenRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/tokens/{uid}")
async def get_token(uid: str, operator: CurrentOperator, db: Db) -> IdTokenRead:
    """One id token (uids compare without letter case, as stations do)."""
    token = await db.read(lambda s: tokens.get_token(s, uid))
    return IdTokenRead.model_validate(token)


@router.patch("/tokens/{uid}")
async def update_token(
    uid: str, body: IdTokenUpdate, operator: CommandOperator, db: Db
) -> IdTokenRead:
    """Block, unblock, expire or regroup an id token."""
    fields = body.changes()
    if fields.get("expiry") is not None:
        fields["expiry"] = as_utc(fields["expiry"])
    changes = TokenChanges(**fields)
    token = await db.write(lambda s: tokens.update_token(s, uid, changes))
    return IdTokenRead.model_validate(token)
