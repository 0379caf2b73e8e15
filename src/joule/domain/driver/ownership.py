"""Which organisation a new or moved object belongs to, checked against the caller's scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain import audit
from joule.domain.access.scope import Scope
from joule.domain.events import AccessChanged
from joule.kit.errors import NotFound
from joule.storage.models import Organisation
from joule.storage.uow import UnitOfWork


async def owner(session: AsyncSession, scope: Scope, organisation_id: str | None) -> str | None:
    """The organisation to own an object: the one asked for (inside the scope), else the caller's.

    A caller bound to an organisation cannot create network-wide (NULL) objects: those are the root
    operators' (issue 5 scope). An organisation outside the scope is reported as absent (404).
    """
    if organisation_id is None:
        return scope.organisation_id
    if not scope.sees_organisation(organisation_id) or (
        await session.get(Organisation, organisation_id) is None
    ):
        raise NotFound(f"organisation {organisation_id} does not exist")
    return organisation_id


def changed(
    uow: UnitOfWork,
    scope: Scope,
    *,
    organisation_id: str | None,
    action: str,
    object_type: str,
    object_id: str | int,
    changes: dict[str, object],
    reason: str,
    at: datetime,
) -> None:
    """Audit a change to tokens, drivers, groups or rules and announce it after the commit."""
    audit.record(
        uow.session,
        actor=scope.actor,
        actor_type=scope.actor_type,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes,
        at=at,
    )
    # Local lists of the organisation's network are recomputed on it (helper "locallist").
    uow.emit(AccessChanged(organisation_id, reason))
