"""Operator intent verbs: the first admin, operators in a scope, credentials and passwords."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, build_scope, organisation_condition, site_role
from joule.domain.audit import record
from joule.domain.operator.rules import (
    OperatorRole,
    check_password,
    normalise_email,
    parse_role,
)
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.kit.passwords import hash_password, verify_password
from joule.storage.models import Operator, OperatorSiteGrant, Organisation
from joule.storage.repositories import operator as operators


@dataclass(frozen=True, slots=True)
class OperatorDraft:
    """A checked operator, its password already hashed: ready to insert."""

    email: str
    password_hash: str
    role: OperatorRole


@cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so both paths cost one Argon2 verification
    # and response time does not reveal which addresses exist (OWASP API2).
    return hash_password("joule-no-such-operator")


def _verify_dummy(password: str) -> None:
    verify_password(_dummy_hash(), password)


async def draft_operator(*, email: str, password: str, role: str) -> OperatorDraft:
    """Check an operator's fields and hash the password off the event loop."""
    canonical = normalise_email(email)
    check_password(password)
    parsed = parse_role(role)
    password_hash = await asyncio.to_thread(hash_password, password)
    return OperatorDraft(email=canonical, password_hash=password_hash, role=parsed)


async def create_operator(session: AsyncSession, draft: OperatorDraft, *, at: datetime) -> Operator:
    """Insert an operator; a taken e-mail address raises Conflict."""
    if await operators.get_operator_by_email(session, draft.email) is not None:
        raise Conflict(f"operator {draft.email} already exists")
    operator = Operator(
        email=draft.email,
        password_hash=draft.password_hash,
        role=draft.role.value,
        active=True,
        created_at=at,
    )
    return await operators.add_operator(session, operator)


async def ensure_admin(
    session: AsyncSession, email: str, password: str, at: datetime
) -> Operator | None:
    """Create the first admin when no operator exists yet; None when there already is one."""
    if await operators.count_operators(session) > 0:
        return None
    draft = await draft_operator(email=email, password=password, role=OperatorRole.ADMIN)
    return await create_operator(session, draft, at=at)


async def authenticate(session: AsyncSession, email: str, password: str) -> Operator | None:
    """The active operator these credentials belong to, or None."""
    try:
        canonical = normalise_email(email)
    except Invalid:
        canonical = None
    operator = await operators.get_operator_by_email(session, canonical) if canonical else None
    if operator is None or not operator.active:
        await asyncio.to_thread(_verify_dummy, password)
        return None
    if not await asyncio.to_thread(verify_password, operator.password_hash, password):
        return None
    return operator


def issued_before_password_change(operator: Operator, issued_at: datetime) -> bool:
    """True when a session token predates the operator's last password change (it is void)."""
    changed = operator.password_changed_at
    if changed is None:
        return False
    if changed.tzinfo is None:  # SQLite hands back naive UTC
        changed = changed.replace(tzinfo=UTC)
    # JWT iat has whole seconds: a token issued in the second of the change still counts as after.
    return issued_at.timestamp() < int(changed.timestamp())


async def get_active_operator(
    session: AsyncSession, operator_id: int, issued_at: datetime | None = None
) -> Operator | None:
    """The operator with this id when it exists, is active and its session is still valid.

    Checked on every request, so deactivation and a password change take effect at once.
    """
    operator = await operators.get_operator(session, operator_id)
    if operator is None or not operator.active:
        return None
    if issued_at is not None and issued_before_password_change(operator, issued_at):
        return None
    return operator


async def operator_scope(session: AsyncSession, operator: Operator) -> Scope:
    """What this operator sees: its organisation's subtree (or all), its role and site grants."""
    grants = await operators.site_grants_of(session, operator.id)
    return await build_scope(
        session,
        organisation_id=operator.organisation_id,
        role=operator.role,
        grants=[(grant.site_id, grant.role) for grant in grants],
        actor=operator.email,
        actor_type="operator",
        operator_id=operator.id,
    )


async def list_operators(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[Operator], int]:
    """A page of operators and the total count."""
    return await operators.list_operators(session, limit=limit, offset=offset)


# --- managing operators inside a scope (issue 5) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantDraft:
    """A role on one site for an operator."""

    site_id: str
    role: OperatorRole


def parse_grants(grants: list[tuple[str, str]]) -> list[GrantDraft]:
    """Checked site grants: operator or viewer on each site, one grant per site."""
    parsed: dict[str, GrantDraft] = {}
    for site_id, role in grants:
        grant_role = parse_role(role)
        if grant_role == OperatorRole.ADMIN:
            raise Invalid("a site grant gives operator or viewer, never admin")
        if site_id in parsed:
            raise Invalid(f"site {site_id} is granted twice")
        parsed[site_id] = GrantDraft(site_id=site_id, role=grant_role)
    return list(parsed.values())


def operator_visible(scope: Scope, operator: Operator) -> bool:
    """True when an admin with this scope manages this operator (own subtree; root: all)."""
    return scope.sees_organisation(operator.organisation_id)


def _target_organisation(scope: Scope, organisation_id: str | None) -> str | None:
    target = scope.organisation_id if organisation_id is None else organisation_id
    if target is None and not scope.is_root:
        raise NotFound("organisation not found")
    if target is not None and not scope.sees_organisation(target):
        raise NotFound(f"organisation {target} not found")
    return target


async def _check_grant_sites(session: AsyncSession, scope: Scope, grants: list[GrantDraft]) -> None:
    for grant in grants:
        if await site_role(session, scope, grant.site_id) is None:
            raise NotFound(f"site {grant.site_id} not found")


async def _organisation_exists(session: AsyncSession, organisation_id: str | None) -> None:
    if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} not found")


async def create_scoped_operator(
    session: AsyncSession,
    scope: Scope,
    draft: OperatorDraft,
    *,
    organisation_id: str | None,
    grants: list[GrantDraft],
    at: datetime,
) -> Operator:
    """Create an operator in the admin's subtree (default: the admin's own organisation)."""
    target = _target_organisation(scope, organisation_id)
    await _organisation_exists(session, target)
    await _check_grant_sites(session, scope, grants)
    created = await create_operator(session, draft, at=at)
    created.organisation_id = target
    created.password_changed_at = at
    await operators.replace_site_grants(
        session,
        created.id,
        [
            OperatorSiteGrant(operator_id=created.id, site_id=g.site_id, role=g.role, created_at=at)
            for g in grants
        ],
    )
    record(
        session,
        actor=scope.actor,
        actor_type=scope.actor_type,
        organisation_id=target,
        action="operator.create",
        object_type="operator",
        object_id=created.id,
        changes={
            "email": created.email,
            "role": created.role,
            "organisation_id": target,
            "site_grants": [{"site_id": g.site_id, "role": g.role.value} for g in grants],
        },
        at=at,
    )
    return created


async def get_scoped_operator(session: AsyncSession, scope: Scope, operator_id: int) -> Operator:
    """An operator the admin manages; NotFound outside the scope."""
    found = await operators.get_operator(session, operator_id)
    if found is None or not operator_visible(scope, found):
        raise NotFound(f"operator {operator_id} not found")
    return found


async def update_scoped_operator(
    session: AsyncSession,
    scope: Scope,
    operator_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    grants: list[GrantDraft] | None = None,
    at: datetime,
) -> Operator:
    """Change an operator's role, activity or site grants (deactivation applies at once)."""
    found = await get_scoped_operator(session, scope, operator_id)
    if found.id == scope.operator_id and (
        (role is not None and role != found.role) or active is False
    ):
        # Guards against an organisation locking itself out of administration by mistake.
        raise Invalid("an admin cannot demote or deactivate themselves")
    changes: dict[str, object] = {}
    if role is not None:
        found.role = parse_role(role).value
        changes["role"] = found.role
    if active is not None:
        found.active = active
        changes["active"] = active
    if grants is not None:
        await _check_grant_sites(session, scope, grants)
        await operators.replace_site_grants(
            session,
            found.id,
            [
                OperatorSiteGrant(
                    operator_id=found.id, site_id=g.site_id, role=g.role, created_at=at
                )
                for g in grants
            ],
        )
        changes["site_grants"] = [{"site_id": g.site_id, "role": g.role.value} for g in grants]
    if changes:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=found.organisation_id,
            action="operator.update",
            object_type="operator",
            object_id=found.id,
            changes=changes,
            at=at,
        )
        await session.flush()
    return found


async def list_scoped_operators(
    session: AsyncSession, scope: Scope, *, limit: int, offset: int
) -> tuple[list[Operator], int]:
    """The operators of the admin's subtree (root admins: every operator)."""
    visible = organisation_condition(scope, Operator.organisation_id)
    return await operators.list_visible_operators(
        session, visible=visible, limit=limit, offset=offset
    )


async def site_grants(session: AsyncSession, operator_id: int) -> list[OperatorSiteGrant]:
    """An operator's site grants."""
    return await operators.site_grants_of(session, operator_id)


async def set_password(
    session: AsyncSession, operator: Operator, password_hash: str, *, actor: str, at: datetime
) -> None:
    """Store a new password hash; every session issued before now is void from now on."""
    operator.password_hash = password_hash
    operator.password_changed_at = at
    operator.failed_logins = 0
    operator.locked_until = None
    record(
        session,
        actor=actor,
        actor_type="operator",
        organisation_id=operator.organisation_id,
        action="operator.password",
        object_type="operator",
        object_id=operator.id,
        changes={"password": "changed"},
        at=at,
    )
    await session.flush()


async def change_password(
    session: AsyncSession,
    operator_id: int,
    *,
    current_password: str,
    new_password_hash: str,
    at: datetime,
) -> Operator:
    """Change one's own password after re-checking the current one (Invalid when wrong)."""
    found = await operators.get_operator(session, operator_id)
    if found is None or not found.active:
        raise NotFound(f"operator {operator_id} not found")
    if not await asyncio.to_thread(verify_password, found.password_hash, current_password):
        raise Invalid("the current password is wrong")
    await set_password(session, found, new_password_hash, actor=found.email, at=at)
    return found


async def hash_new_password(password: str) -> str:
    """Check the password policy and hash off the event loop."""
    check_password(password)
    return await asyncio.to_thread(hash_password, password)
