"""Id tokens: the id tags (1.6) / id tokens (2.x) drivers present, scoped and audited (issue 5)."""

from __future__ import annotations

from fastapi import APIRouter, status

from joule.api.deps import CommandOperator, CurrentCaller, Db, PageParams, Services
from joule.api.schemas.common import Page, as_utc
from joule.api.schemas.token import IdTokenCreate, IdTokenRead, IdTokenUpdate, TokenStatusName
from joule.domain.driver import tokens
from joule.domain.driver.tokens import TokenChanges, TokenSpec
from joule.storage.models import IdToken
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    body: IdTokenCreate, caller: CommandOperator, services: Services
) -> IdTokenRead:
    """Register an id token; a uid that exists (any letter case) is 409."""
    at = services.clock.now()
    spec = TokenSpec(
        uid=body.uid,
        status=body.status,
        type=body.type,
        expiry=as_utc(body.expiry) if body.expiry else None,
        group_id=body.group_id,
        max_concurrent=body.max_concurrent,
        organisation_id=body.organisation_id,
        driver_id=body.driver_id,
    )

    async def work(uow: UnitOfWork) -> IdToken:
        return await tokens.create_token(uow, caller.scope, spec, at=at)

    return IdTokenRead.model_validate(await services.committer.run(work))


@router.get("/tokens")
async def list_tokens(
    caller: CurrentCaller,
    db: Db,
    page: PageParams,
    status: TokenStatusName | None = None,
    driver_id: int | None = None,
) -> Page[IdTokenRead]:
    """Id tokens ordered by uid; filter by status or driver."""
    found, total = await db.read(
        lambda s: tokens.list_tokens(
            s,
            caller.scope,
            limit=page.limit,
            offset=page.offset,
            status=status,
            driver_id=driver_id,
        )
    )
    items = [IdTokenRead.model_validate(t) for t in found]
    return Page[IdTokenRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/tokens/{uid}")
async def get_token(uid: str, caller: CurrentCaller, db: Db) -> IdTokenRead:
    """One id token (uids compare without letter case, as stations do)."""
    token = await db.read(lambda s: tokens.get_token(s, caller.scope, uid))
    return IdTokenRead.model_validate(token)


@router.patch("/tokens/{uid}")
async def update_token(
    uid: str, body: IdTokenUpdate, caller: CommandOperator, services: Services
) -> IdTokenRead:
    """Block, unblock, expire, regroup, reassign or move an id token."""
    fields = body.changes()
    if fields.get("expiry") is not None:
        fields["expiry"] = as_utc(fields["expiry"])
    changes = TokenChanges(**fields)
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> IdToken:
        return await tokens.update_token(uow, caller.scope, uid, changes, at=at)

    return IdTokenRead.model_validate(await services.committer.run(work))
