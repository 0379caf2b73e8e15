"""Organisation verbs: create inside one's own subtree, list, look at, rename or move."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, organisation_condition, organisation_edges, subtree
from joule.domain.audit import record
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import Organisation
from joule.storage.repositories import organisation as organisations

MAX_ID_LENGTH = 64  # the column size
MAX_NAME_LENGTH = 200
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_organisation_id(organisation_id: str) -> None:
    """Raise Invalid unless the id is 1–64 URL-safe characters (it appears in paths)."""
    if not organisation_id or len(organisation_id) > MAX_ID_LENGTH:
        raise Invalid(f"an organisation id has 1 to {MAX_ID_LENGTH} characters")
    if not _ID.match(organisation_id):
        raise Invalid(
            f"organisation id {organisation_id!r} may use letters, digits, '.', '_' and '-' only"
        )


def check_name(name: str) -> str:
    """The trimmed name, or Invalid when empty or too long."""
    trimmed = name.strip()
    if not trimmed or len(trimmed) > MAX_NAME_LENGTH:
        raise Invalid(f"an organisation name has 1 to {MAX_NAME_LENGTH} characters")
    return trimmed


async def get_visible(session: AsyncSession, scope: Scope, organisation_id: str) -> Organisation:
    """The organisation when the caller sees it; NotFound otherwise (never a hint it exists)."""
    found = await organisations.get_organisation(session, organisation_id)
    if found is None or not scope.sees_organisation(found.id):
        raise NotFound(f"organisation {organisation_id} not found")
    return found


async def create_organisation(
    session: AsyncSession,
    scope: Scope,
    *,
    organisation_id: str | None,
    name: str,
    parent_id: str | None,
    at: datetime,
) -> Organisation:
    """Create an organisation inside the caller's subtree (a root caller may create a root)."""
    name = check_name(name)
    if organisation_id is None:
        organisation_id = "org-" + secrets.token_hex(6)
    check_organisation_id(organisation_id)
    if parent_id is None and not scope.is_root:
        # A non-root admin's new organisation hangs below its own.
        parent_id = scope.organisation_id
    if parent_id is not None:
        await get_visible(session, scope, parent_id)
    created = await organisations.add_organisation(
        session, Organisation(id=organisation_id, name=name, parent_id=parent_id, created_at=at)
    )
    record(
        session,
        actor=scope.actor,
        actor_type=scope.actor_type,
        organisation_id=created.id,
        action="organisation.create",
        object_type="organisation",
        object_id=created.id,
        changes={"name": name, "parent_id": parent_id},
        at=at,
    )
    return created


async def update_organisation(
    session: AsyncSession,
    scope: Scope,
    organisation_id: str,
    *,
    changes: dict[str, object],
    at: datetime,
) -> Organisation:
    """Rename an organisation or move it under another one of the caller's subtree."""
    found = await get_visible(session, scope, organisation_id)
    done: dict[str, object] = {}
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str):
            raise Invalid("name must be text")
        found.name = check_name(name)
        done["name"] = found.name
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        if parent_id is not None and not isinstance(parent_id, str):
            raise Invalid("parent_id must be text or null")
        if found.id == scope.organisation_id:
            # Moving one's own organisation would change one's own scope: a parent's job.
            raise Invalid("an admin cannot move their own organisation")
        if parent_id is None:
            if not scope.is_root:
                raise Invalid("only a root admin may make an organisation a root")
        else:
            await get_visible(session, scope, parent_id)
            if parent_id in subtree(await organisation_edges(session), found.id):
                raise Invalid(f"organisation {parent_id} is {found.id} or below it: a cycle")
        found.parent_id = parent_id
        done["parent_id"] = parent_id
    if done:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=found.id,
            action="organisation.update",
            object_type="organisation",
            object_id=found.id,
            changes=done,
            at=at,
        )
        await session.flush()
    return found


async def list_organisations(
    session: AsyncSession, scope: Scope, *, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    """The organisations the caller sees, ordered by id."""
    visible = organisation_condition(scope, Organisation.id)
    return await organisations.list_organisations(
        session, visible=visible, limit=limit, offset=offset
    )
