"""Drivers: people with any number of id tokens, owned by an organisation (issue 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, driver_condition, token_condition
from joule.domain.driver.ownership import changed, owner
from joule.domain.events import AccessChanged
from joule.domain.registry.rules import UNSET, Unset
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.storage.models import Driver, IdToken
from joule.storage.uow import UnitOfWork

DRIVER_STATUSES = ("Active", "Blocked")


@dataclass(frozen=True, slots=True)
class DriverChanges:
    """Changes to a driver; UNSET fields stay as they are, None clears (e-mail only)."""

    name: str | Unset = UNSET
    email: str | Unset | None = UNSET
    status: str | Unset = UNSET
    organisation_id: str | Unset | None = UNSET


def _status(value: str) -> str:
    if value not in DRIVER_STATUSES:
        raise Invalid(f"unknown driver status {value!r} (one of {', '.join(DRIVER_STATUSES)})")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("a driver needs a name")
    return value


async def _email(session: AsyncSession, value: str | None, *, own_id: int | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if "@" not in value:
        raise Invalid(f"{value!r} is not an e-mail address")
    other = await session.scalar(select(Driver.id).where(func.lower(Driver.email) == value))
    if other is not None and other != own_id:
        raise Conflict(f"a driver with e-mail {value} exists")
    return value


async def create_driver(
    uow: UnitOfWork,
    scope: Scope,
    *,
    name: str,
    email: str | None,
    organisation_id: str | None,
    status: str,
    at: datetime,
) -> Driver:
    """Register a driver in the caller's organisation (or one below it)."""
    session = uow.session
    driver = Driver(
        name=_name(name),
        email=await _email(session, email, own_id=None),
        organisation_id=await owner(session, scope, organisation_id),
        status=_status(status),
        failed_logins=0,
        created_at=at,
    )
    session.add(driver)
    await session.flush()
    changed(
        uow,
        scope,
        organisation_id=driver.organisation_id,
        action="driver.create",
        object_type="driver",
        object_id=driver.id,
        changes={"name": driver.name, "email": driver.email, "status": driver.status},
        reason=f"driver {driver.id} created",
        at=at,
    )
    return driver


async def get_driver(session: AsyncSession, scope: Scope, driver_id: int) -> Driver:
    """The driver; NotFound when unknown or outside the caller's scope."""
    driver = await session.scalar(
        select(Driver).where(Driver.id == driver_id, driver_condition(scope))
    )
    if driver is None:
        raise NotFound(f"driver {driver_id} does not exist")
    return driver


async def list_drivers(
    session: AsyncSession, scope: Scope, *, limit: int, offset: int, search: str | None = None
) -> tuple[list[Driver], int]:
    """A page of the caller's drivers by name, and the total."""
    condition = driver_condition(scope)
    if search:
        pattern = f"%{search.lower()}%"
        condition = condition & (
            func.lower(Driver.name).like(pattern) | func.lower(Driver.email).like(pattern)
        )
    total = await session.scalar(select(func.count()).select_from(Driver).where(condition))
    rows = await session.scalars(
        select(Driver).where(condition).order_by(Driver.name, Driver.id).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def update_driver(
    uow: UnitOfWork, scope: Scope, driver_id: int, changes: DriverChanges, *, at: datetime
) -> Driver:
    """Rename, re-address, block / unblock or move a driver."""
    session = uow.session
    driver = await get_driver(session, scope, driver_id)
    diff: dict[str, object] = {}
    if not isinstance(changes.name, Unset):
        diff["name"] = [driver.name, _name(changes.name)]
        driver.name = _name(changes.name)
    if not isinstance(changes.email, Unset):
        email = await _email(session, changes.email, own_id=driver.id)
        diff["email"] = [driver.email, email]
        driver.email = email
    if not isinstance(changes.status, Unset):
        diff["status"] = [driver.status, _status(changes.status)]
        driver.status = _status(changes.status)
    before = driver.organisation_id
    if not isinstance(changes.organisation_id, Unset):
        moved = await owner(session, scope, changes.organisation_id)
        diff["organisation_id"] = [driver.organisation_id, moved]
        driver.organisation_id = moved
    await session.flush()
    changed(
        uow,
        scope,
        organisation_id=driver.organisation_id,
        action="driver.update",
        object_type="driver",
        object_id=driver.id,
        changes=diff,
        reason=f"driver {driver.id} changed",
        at=at,
    )
    if before != driver.organisation_id:
        # The network it left recomputes its stations' lists too.
        uow.emit(AccessChanged(before, f"driver {driver.id} moved"))
    return driver


async def driver_tokens(session: AsyncSession, scope: Scope, driver_id: int) -> list[IdToken]:
    """The driver's tokens (that the caller may see), by uid."""
    driver = await get_driver(session, scope, driver_id)
    rows = await session.scalars(
        select(IdToken)
        .where(IdToken.driver_id == driver.id, token_condition(scope))
        .order_by(IdToken.uid)
    )
    return list(rows)
