"""Operator intent verbs: the first admin, creating operators, checking credentials."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, build_scope
from joule.domain.operator.rules import (
    OperatorRole,
    check_password,
    normalise_email,
    parse_role,
)
from joule.kit.errors import Conflict, Invalid
from joule.kit.passwords import hash_password, verify_password
from joule.storage.models import Operator
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
