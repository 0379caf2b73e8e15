"""A driver blocks their own lost card: stored Blocked, audited, stations told via AccessChanged."""

from __future__ import annotations

from datetime import datetime

from joule.domain import audit
from joule.domain.driver_portal.service import BLOCKED, own_token
from joule.domain.events import AccessChanged
from joule.storage.committer import GroupCommitter
from joule.storage.models import Driver, IdToken
from joule.storage.uow import UnitOfWork


async def block_own_token(
    committer: GroupCommitter, *, driver_id: int, uid: str, now: datetime
) -> IdToken:
    """Block the driver's token `uid`; NotFound when it is not theirs. Returns once durable.

    Blocking twice changes nothing and records nothing. The event goes out after the commit, so
    the local-list sync reads the Blocked status (stations then refuse the card offline too).
    """

    async def work(uow: UnitOfWork) -> IdToken:
        token = await own_token(uow.session, driver_id, uid)
        if token.status == BLOCKED:
            return token
        driver = await uow.session.get(Driver, driver_id)
        previous, token.status = token.status, BLOCKED
        organisation_id = token.organisation_id or (driver.organisation_id if driver else None)
        audit.record(
            uow.session,
            actor=driver.email if driver else None,
            actor_type="driver",
            organisation_id=organisation_id,
            action="token.block",
            object_type="token",
            object_id=token.uid,
            changes={"status": [previous, BLOCKED], "by": "driver self-service"},
            at=now,
        )
        uow.emit(AccessChanged(organisation_id, f"driver {driver_id} blocked token {token.uid}"))
        return token

    return await committer.run(work)
