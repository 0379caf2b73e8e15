"""Access groups (public, employees, residents, fleet, custom) and their members (issue 5)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, group_condition
from joule.domain.driver.ownership import changed, owner
from joule.domain.driver.service import get_driver
from joule.domain.driver.tokens import get_token
from joule.domain.registry.rules import UNSET, Unset
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.storage.models import AccessGroup, AccessRule, Driver, GroupDriver, GroupToken, IdToken
from joule.storage.uow import UnitOfWork

GROUP_KINDS = ("public", "employees", "residents", "fleet", "custom")
_GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A new access group."""

    name: str
    kind: str = "custom"
    id: str | None = None
    organisation_id: str | None = None
    id_token_group: str | None = None  # the shared parentIdTag / groupIdToken of its tokens
    monthly_energy_budget_wh: Decimal | None = None
    pricing_group: str | None = None
    discount_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class GroupChanges:
    """Changes to a group; UNSET fields stay as they are, None clears."""

    name: str | Unset = UNSET
    kind: str | Unset = UNSET
    id_token_group: str | Unset | None = UNSET
    monthly_energy_budget_wh: Decimal | Unset | None = UNSET
    pricing_group: str | Unset | None = UNSET
    discount_percent: Decimal | Unset | None = UNSET


def _kind(value: str) -> str:
    if value not in GROUP_KINDS:
        raise Invalid(f"unknown group kind {value!r} (one of {', '.join(GROUP_KINDS)})")
    return value


def _budget(value: Decimal | None) -> Decimal | None:
    if value is not None and value < 0:
        raise Invalid("monthly_energy_budget_wh cannot be negative")
    return value


def _discount(value: Decimal | None) -> Decimal | None:
    if value is not None and not Decimal(0) <= value <= Decimal(100):
        raise Invalid("discount_percent is between 0 and 100")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("a group needs a name")
    return value


def audit_group(
    uow: UnitOfWork,
    scope: Scope,
    group: AccessGroup,
    action: str,
    diff: dict[str, object],
    at: datetime,
) -> None:
    changed(
        uow,
        scope,
        organisation_id=group.organisation_id,
        action=action,
        object_type="group",
        object_id=group.id,
        changes=diff,
        reason=f"{action} {group.id}",
        at=at,
    )


async def create_group(
    uow: UnitOfWork, scope: Scope, spec: GroupSpec, *, at: datetime
) -> AccessGroup:
    """Create a group in the caller's organisation (or one below it)."""
    session = uow.session
    group_id = spec.id or f"grp-{secrets.token_hex(6)}"
    if not _GROUP_ID.match(group_id):
        raise Invalid("a group id has 1 to 64 letters, digits, '.', '_' or '-'")
    if await session.get(AccessGroup, group_id) is not None:
        raise Conflict(f"group {group_id} exists")
    group = AccessGroup(
        id=group_id,
        organisation_id=await owner(session, scope, spec.organisation_id),
        name=_name(spec.name),
        kind=_kind(spec.kind),
        id_token_group=spec.id_token_group,
        monthly_energy_budget_wh=_budget(spec.monthly_energy_budget_wh),
        pricing_group=spec.pricing_group,
        discount_percent=_discount(spec.discount_percent),
        created_at=at,
    )
    session.add(group)
    await session.flush()
    audit_group(uow, scope, group, "group.create", {"name": group.name, "kind": group.kind}, at)
    return group


async def get_group(session: AsyncSession, scope: Scope, group_id: str) -> AccessGroup:
    """The group; NotFound when unknown or outside the caller's scope."""
    group = await session.scalar(
        select(AccessGroup).where(AccessGroup.id == group_id, group_condition(scope))
    )
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return group


async def list_groups(
    session: AsyncSession, scope: Scope, *, limit: int, offset: int
) -> tuple[list[AccessGroup], int]:
    """A page of the caller's groups by name, and the total."""
    condition = group_condition(scope)
    total = await session.scalar(select(func.count()).select_from(AccessGroup).where(condition))
    rows = await session.scalars(
        select(AccessGroup)
        .where(condition)
        .order_by(AccessGroup.name, AccessGroup.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def update_group(
    uow: UnitOfWork, scope: Scope, group_id: str, changes: GroupChanges, *, at: datetime
) -> AccessGroup:
    """Rename a group, change its kind, group id token, budget or pricing attributes."""
    group = await get_group(uow.session, scope, group_id)
    diff: dict[str, object] = {}
    if not isinstance(changes.name, Unset):
        diff["name"], group.name = [group.name, _name(changes.name)], _name(changes.name)
    if not isinstance(changes.kind, Unset):
        diff["kind"], group.kind = [group.kind, _kind(changes.kind)], _kind(changes.kind)
    if not isinstance(changes.id_token_group, Unset):
        diff["id_token_group"] = [group.id_token_group, changes.id_token_group]
        group.id_token_group = changes.id_token_group
    if not isinstance(changes.monthly_energy_budget_wh, Unset):
        budget = _budget(changes.monthly_energy_budget_wh)
        diff["monthly_energy_budget_wh"] = [group.monthly_energy_budget_wh, budget]
        group.monthly_energy_budget_wh = budget
    if not isinstance(changes.pricing_group, Unset):
        diff["pricing_group"] = [group.pricing_group, changes.pricing_group]
        group.pricing_group = changes.pricing_group
    if not isinstance(changes.discount_percent, Unset):
        discount = _discount(changes.discount_percent)
        diff["discount_percent"] = [group.discount_percent, discount]
        group.discount_percent = discount
    await uow.session.flush()
    audit_group(uow, scope, group, "group.update", diff, at)
    return group


async def delete_group(uow: UnitOfWork, scope: Scope, group_id: str, *, at: datetime) -> None:
    """Delete a group with its rules and memberships (the database cascades them)."""
    group = await get_group(uow.session, scope, group_id)
    session = uow.session
    await session.execute(delete(GroupDriver).where(GroupDriver.group_id == group.id))
    await session.execute(delete(GroupToken).where(GroupToken.group_id == group.id))
    await session.execute(delete(AccessRule).where(AccessRule.group_id == group.id))
    await session.delete(group)
    await session.flush()
    audit_group(uow, scope, group, "group.delete", {}, at)


@dataclass(frozen=True, slots=True)
class Members:
    """A group's drivers and tokens (direct members; tokens sharing its group id are listed too)."""

    drivers: list[Driver]
    tokens: list[IdToken]
    group_tokens: list[IdToken]  # tokens whose group_id is the group's id_token_group


async def members(session: AsyncSession, scope: Scope, group_id: str) -> Members:
    """The group's members."""
    group = await get_group(session, scope, group_id)
    drivers = await session.scalars(
        select(Driver)
        .join(GroupDriver, GroupDriver.driver_id == Driver.id)
        .where(GroupDriver.group_id == group.id)
        .order_by(Driver.name, Driver.id)
    )
    tokens = await session.scalars(
        select(IdToken)
        .join(GroupToken, GroupToken.token_id == IdToken.id)
        .where(GroupToken.group_id == group.id)
        .order_by(IdToken.uid)
    )
    shared: list[IdToken] = []
    if group.id_token_group is not None:
        shared = list(
            await session.scalars(
                select(IdToken)
                .where(IdToken.group_id == group.id_token_group)
                .order_by(IdToken.uid)
            )
        )
    return Members(list(drivers), list(tokens), shared)


async def add_driver(
    uow: UnitOfWork, scope: Scope, group_id: str, driver_id: int, *, at: datetime
) -> None:
    """Make a driver (and so all their tokens) a member; adding twice changes nothing."""
    group = await get_group(uow.session, scope, group_id)
    driver = await get_driver(uow.session, scope, driver_id)
    if await uow.session.get(GroupDriver, (group.id, driver.id)) is not None:
        return
    uow.session.add(GroupDriver(group_id=group.id, driver_id=driver.id))
    await uow.session.flush()
    audit_group(uow, scope, group, "group.member.add", {"driver_id": driver.id}, at)


async def remove_driver(
    uow: UnitOfWork, scope: Scope, group_id: str, driver_id: int, *, at: datetime
) -> None:
    """Remove a driver from the group; NotFound when not a member."""
    group = await get_group(uow.session, scope, group_id)
    member = await uow.session.get(GroupDriver, (group.id, driver_id))
    if member is None:
        raise NotFound(f"driver {driver_id} is not a member of group {group.id}")
    await uow.session.delete(member)
    await uow.session.flush()
    audit_group(uow, scope, group, "group.member.remove", {"driver_id": driver_id}, at)


async def add_token(
    uow: UnitOfWork, scope: Scope, group_id: str, uid: str, *, at: datetime
) -> None:
    """Make one token a member; adding twice changes nothing."""
    group = await get_group(uow.session, scope, group_id)
    token = await get_token(uow.session, scope, uid)
    if await uow.session.get(GroupToken, (group.id, token.id)) is not None:
        return
    uow.session.add(GroupToken(group_id=group.id, token_id=token.id))
    await uow.session.flush()
    audit_group(uow, scope, group, "group.member.add", {"token": token.uid}, at)


async def remove_token(
    uow: UnitOfWork, scope: Scope, group_id: str, uid: str, *, at: datetime
) -> None:
    """Remove a token from the group; NotFound when not a member."""
    group = await get_group(uow.session, scope, group_id)
    token = await get_token(uow.session, scope, uid)
    member = await uow.session.get(GroupToken, (group.id, token.id))
    if member is None:
        raise NotFound(f"token {uid} is not a member of group {group.id}")
    await uow.session.delete(member)
    await uow.session.flush()
    audit_group(uow, scope, group, "group.member.remove", {"token": token.uid}, at)
