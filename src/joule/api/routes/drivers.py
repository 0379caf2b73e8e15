"""Drivers: the people behind id tokens, scoped to the caller's organisations (issue 5)."""

from __future__ import annotations

from fastapi import APIRouter, status

from joule.api.deps import CommandOperator, CurrentCaller, Db, PageParams, Services
from joule.api.schemas.common import Page
from joule.api.schemas.driver import DriverCreate, DriverRead, DriverUpdate
from joule.api.schemas.token import IdTokenRead
from joule.domain.driver import service as drivers
from joule.domain.driver.service import DriverChanges
from joule.storage.models import Driver
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["drivers"])


@router.post("/drivers", status_code=status.HTTP_201_CREATED)
async def create_driver(
    body: DriverCreate, caller: CommandOperator, services: Services
) -> DriverRead:
    """Register a driver in the caller's organisation (or one below it)."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> Driver:
        return await drivers.create_driver(
            uow,
            caller.scope,
            name=body.name,
            email=body.email,
            organisation_id=body.organisation_id,
            status=body.status,
            at=at,
        )

    return DriverRead.model_validate(await services.committer.run(work))


@router.get("/drivers")
async def list_drivers(
    caller: CurrentCaller, db: Db, page: PageParams, q: str | None = None
) -> Page[DriverRead]:
    """The caller's drivers by name; `q` searches name and e-mail."""
    found, total = await db.read(
        lambda s: drivers.list_drivers(
            s, caller.scope, limit=page.limit, offset=page.offset, search=q
        )
    )
    items = [DriverRead.model_validate(d) for d in found]
    return Page[DriverRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/drivers/{driver_id}")
async def get_driver(driver_id: int, caller: CurrentCaller, db: Db) -> DriverRead:
    """One driver (404 outside the caller's scope)."""
    driver = await db.read(lambda s: drivers.get_driver(s, caller.scope, driver_id))
    return DriverRead.model_validate(driver)


@router.patch("/drivers/{driver_id}")
async def update_driver(
    driver_id: int, body: DriverUpdate, caller: CommandOperator, services: Services
) -> DriverRead:
    """Rename, re-address, block / unblock (all their tokens) or move a driver."""
    changes = DriverChanges(**body.changes())
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> Driver:
        return await drivers.update_driver(uow, caller.scope, driver_id, changes, at=at)

    return DriverRead.model_validate(await services.committer.run(work))


@router.get("/drivers/{driver_id}/tokens")
async def driver_tokens(driver_id: int, caller: CurrentCaller, db: Db) -> list[IdTokenRead]:
    """The driver's id tokens."""
    found = await db.read(lambda s: drivers.driver_tokens(s, caller.scope, driver_id))
    return [IdTokenRead.model_validate(t) for t in found]
