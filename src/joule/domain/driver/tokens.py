"""Id tokens (1.6 idTag, 2.x idToken) as operators manage them: scoped, audited, announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, token_condition
from joule.domain.driver.ownership import changed, owner
from joule.domain.driver.service import get_driver
from joule.domain.events import AccessChanged
from joule.domain.registry.rules import UNSET, TokenStatus, TokenType, Unset, check_token_uid
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import Driver, IdToken
from joule.storage.repositories import token as tokens
from joule.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """A new id token."""

    uid: str
    status: str = TokenStatus.ACCEPTED
    type: str = TokenType.ISO14443
    expiry: datetime | None = None
    group_id: str | None = None  # parentIdTag / groupIdToken
    max_concurrent: int = 1
    organisation_id: str | None = None
    driver_id: int | None = None


@dataclass(frozen=True, slots=True)
class TokenChanges:
    """Changes to an id token; UNSET fields stay as they are, None clears."""

    status: str | Unset = UNSET
    type: str | Unset = UNSET
    expiry: datetime | Unset | None = UNSET
    group_id: str | Unset | None = UNSET
    max_concurrent: int | Unset = UNSET
    organisation_id: str | Unset | None = UNSET
    driver_id: int | Unset | None = UNSET


def check_status(value: str) -> str:
    """A stored token status, or Invalid naming the allowed ones."""
    try:
        return TokenStatus(value).value
    except ValueError:
        allowed = ", ".join(s.value for s in TokenStatus)
        raise Invalid(f"unknown token status {value!r} (one of {allowed})") from None


def check_type(value: str) -> str:
    """A token type of OCPP 2.0.1 IdTokenEnumType, or Invalid naming the allowed ones."""
    try:
        return TokenType(value).value
    except ValueError:
        allowed = ", ".join(t.value for t in TokenType)
        raise Invalid(f"unknown token type {value!r} (one of {allowed})") from None


def check_max_concurrent(value: int) -> int:
    """At least one active transaction at once."""
    if value < 1:
        raise Invalid("max_concurrent is at least 1")
    return value


async def owning_organisation(session: AsyncSession, token: IdToken) -> str | None:
    """The token's organisation, else its driver's (access-model: token → token or driver)."""
    if token.organisation_id is not None or token.driver_id is None:
        return token.organisation_id
    driver = await session.get(Driver, token.driver_id)
    return driver.organisation_id if driver is not None else None


async def _driver(session: AsyncSession, scope: Scope, driver_id: int | None) -> int | None:
    if driver_id is None:
        return None
    return (await get_driver(session, scope, driver_id)).id


async def create_token(uow: UnitOfWork, scope: Scope, spec: TokenSpec, *, at: datetime) -> IdToken:
    """Register an id token; a uid that exists (in any letter case) raises Conflict."""
    session = uow.session
    check_token_uid(spec.uid)
    driver_id = await _driver(session, scope, spec.driver_id)
    organisation_id = await owner(session, scope, spec.organisation_id)
    token = await tokens.create_token(
        session,
        uid=spec.uid,
        type=check_type(spec.type),
        status=check_status(spec.status),
        expiry=spec.expiry,
        group_id=spec.group_id,
        max_concurrent=check_max_concurrent(spec.max_concurrent),
        at=at,
    )
    token.driver_id = driver_id
    token.organisation_id = organisation_id
    await session.flush()
    changed(
        uow,
        scope,
        organisation_id=await owning_organisation(session, token),
        action="token.create",
        object_type="token",
        object_id=token.uid,
        changes={
            "status": token.status,
            "type": token.type,
            "expiry": token.expiry,
            "group_id": token.group_id,
            "driver_id": driver_id,
        },
        reason=f"token {token.uid} created",
        at=at,
    )
    return token


async def get_token(session: AsyncSession, scope: Scope, uid: str) -> IdToken:
    """The token (letter case ignored, as stations do); NotFound when unknown or out of scope."""
    token = await tokens.get_token(session, uid)
    if token is None or not await _visible(session, scope, token):
        raise NotFound(f"id token {uid} does not exist")
    return token


async def _visible(session: AsyncSession, scope: Scope, token: IdToken) -> bool:
    if scope.is_root:
        return True
    found = await session.scalar(
        select(IdToken.id).where(IdToken.id == token.id, token_condition(scope))
    )
    return found is not None


async def list_tokens(
    session: AsyncSession,
    scope: Scope,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    driver_id: int | None = None,
) -> tuple[list[IdToken], int]:
    """A page of the caller's tokens by uid, and the total."""
    condition = token_condition(scope)
    if status is not None:
        condition = condition & (IdToken.status == check_status(status))
    if driver_id is not None:
        condition = condition & (IdToken.driver_id == driver_id)
    total = await session.scalar(select(func.count()).select_from(IdToken).where(condition))
    rows = await session.scalars(
        select(IdToken).where(condition).order_by(IdToken.uid).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def update_token(
    uow: UnitOfWork, scope: Scope, uid: str, changes: TokenChanges, *, at: datetime
) -> IdToken:
    """Block, unblock, expire, regroup, reassign or move an id token."""
    session = uow.session
    token = await get_token(session, scope, uid)
    before_org = token.organisation_id
    diff: dict[str, object] = {}

    def note(field: str, old: object, new: object) -> None:
        if old != new:
            diff[field] = [old, new]

    if not isinstance(changes.status, Unset):
        note("status", token.status, check_status(changes.status))
        token.status = check_status(changes.status)
    if not isinstance(changes.type, Unset):
        note("type", token.type, check_type(changes.type))
        token.type = check_type(changes.type)
    if not isinstance(changes.expiry, Unset):
        note("expiry", token.expiry, changes.expiry)
        token.expiry = changes.expiry
    if not isinstance(changes.group_id, Unset):
        note("group_id", token.group_id, changes.group_id)
        token.group_id = changes.group_id
    if not isinstance(changes.max_concurrent, Unset):
        note("max_concurrent", token.max_concurrent, check_max_concurrent(changes.max_concurrent))
        token.max_concurrent = check_max_concurrent(changes.max_concurrent)
    if not isinstance(changes.driver_id, Unset):
        driver_id = await _driver(session, scope, changes.driver_id)
        note("driver_id", token.driver_id, driver_id)
        token.driver_id = driver_id
    if not isinstance(changes.organisation_id, Unset):
        organisation_id = await owner(session, scope, changes.organisation_id)
        note("organisation_id", token.organisation_id, organisation_id)
        token.organisation_id = organisation_id
    await session.flush()
    if diff:
        action = "token.status" if set(diff) == {"status"} else "token.update"
        changed(
            uow,
            scope,
            organisation_id=await owning_organisation(session, token),
            action=action,
            object_type="token",
            object_id=token.uid,
            changes=diff,
            reason=f"token {token.uid} changed",
            at=at,
        )
        if before_org != token.organisation_id:
            # The network it left recomputes its stations' lists too.
            uow.emit(AccessChanged(before_org, f"token {token.uid} moved"))
    return token
