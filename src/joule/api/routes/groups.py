"""Access groups, their members and access rules (issue 5)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from joule.api.deps import CommandOperator, CurrentCaller, Db, PageParams, Services
from joule.api.schemas.common import Page, as_utc
from joule.api.schemas.driver import DriverRead
from joule.api.schemas.group import (
    GroupCreate,
    GroupMembers,
    GroupRead,
    GroupUpdate,
    MemberAdd,
    RuleCreate,
    RuleRead,
)
from joule.api.schemas.token import IdTokenRead
from joule.domain.group import access_rules, service
from joule.domain.group.access_rules import RuleSpec
from joule.domain.group.service import GroupChanges, GroupSpec
from joule.storage.models import AccessGroup, AccessRule
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["groups"])


@router.post("/groups", status_code=status.HTTP_201_CREATED)
async def create_group(body: GroupCreate, caller: CommandOperator, services: Services) -> GroupRead:
    """Create an access group (public, employees, residents, fleet or custom)."""
    spec = GroupSpec(**body.model_dump())
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> AccessGroup:
        return await service.create_group(uow, caller.scope, spec, at=at)

    return GroupRead.model_validate(await services.committer.run(work))


@router.get("/groups")
async def list_groups(caller: CurrentCaller, db: Db, page: PageParams) -> Page[GroupRead]:
    """The caller's access groups by name."""
    found, total = await db.read(
        lambda s: service.list_groups(s, caller.scope, limit=page.limit, offset=page.offset)
    )
    items = [GroupRead.model_validate(g) for g in found]
    return Page[GroupRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/groups/{group_id}")
async def get_group(group_id: str, caller: CurrentCaller, db: Db) -> GroupRead:
    """One access group."""
    group = await db.read(lambda s: service.get_group(s, caller.scope, group_id))
    return GroupRead.model_validate(group)


@router.patch("/groups/{group_id}")
async def update_group(
    group_id: str, body: GroupUpdate, caller: CommandOperator, services: Services
) -> GroupRead:
    """Change a group's name, kind, group id token, monthly budget or pricing attributes."""
    changes = GroupChanges(**body.changes())
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> AccessGroup:
        return await service.update_group(uow, caller.scope, group_id, changes, at=at)

    return GroupRead.model_validate(await services.committer.run(work))


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(group_id: str, caller: CommandOperator, services: Services) -> Response:
    """Delete a group with its rules and memberships."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        await service.delete_group(uow, caller.scope, group_id, at=at)

    await services.committer.run(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/groups/{group_id}/members")
async def list_members(group_id: str, caller: CurrentCaller, db: Db) -> GroupMembers:
    """The group's drivers and tokens."""
    found = await db.read(lambda s: service.members(s, caller.scope, group_id))
    return GroupMembers(
        drivers=[DriverRead.model_validate(d) for d in found.drivers],
        tokens=[IdTokenRead.model_validate(t) for t in found.tokens],
        group_tokens=[IdTokenRead.model_validate(t) for t in found.group_tokens],
    )


@router.post("/groups/{group_id}/members", status_code=status.HTTP_204_NO_CONTENT)
async def add_member(
    group_id: str, body: MemberAdd, caller: CommandOperator, services: Services
) -> Response:
    """Add a driver (all their tokens) or one token to the group."""
    if (body.driver_id is None) == (body.uid is None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="give exactly one of driver_id or uid"
        )
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        if body.driver_id is not None:
            await service.add_driver(uow, caller.scope, group_id, body.driver_id, at=at)
        elif body.uid is not None:
            await service.add_token(uow, caller.scope, group_id, body.uid, at=at)

    await services.committer.run(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/groups/{group_id}/members/drivers/{driver_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_driver(
    group_id: str, driver_id: int, caller: CommandOperator, services: Services
) -> Response:
    """Remove a driver from the group."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        await service.remove_driver(uow, caller.scope, group_id, driver_id, at=at)

    await services.committer.run(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/groups/{group_id}/members/tokens/{uid}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_token(
    group_id: str, uid: str, caller: CommandOperator, services: Services
) -> Response:
    """Remove a token from the group."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        await service.remove_token(uow, caller.scope, group_id, uid, at=at)

    await services.committer.run(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/groups/{group_id}/rules", status_code=status.HTTP_201_CREATED)
async def add_rule(
    group_id: str, body: RuleCreate, caller: CommandOperator, services: Services
) -> RuleRead:
    """Add an access rule: which site / station / EVSE, which days and local hours, validity."""
    fields = body.model_dump()
    for name in ("valid_from", "valid_until"):
        if fields[name] is not None:
            fields[name] = as_utc(fields[name])
    spec = RuleSpec(**fields)
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> AccessRule:
        return await access_rules.add_rule(uow, caller.scope, group_id, spec, at=at)

    return RuleRead.model_validate(await services.committer.run(work))


@router.get("/groups/{group_id}/rules")
async def list_rules(group_id: str, caller: CurrentCaller, db: Db) -> list[RuleRead]:
    """The group's access rules."""
    found = await db.read(lambda s: access_rules.list_rules(s, caller.scope, group_id))
    return [RuleRead.model_validate(r) for r in found]


@router.delete("/groups/{group_id}/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(
    group_id: str, rule_id: int, caller: CommandOperator, services: Services
) -> Response:
    """Delete an access rule."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        await access_rules.delete_rule(uow, caller.scope, group_id, rule_id, at=at)

    await services.committer.run(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
