"""Operator intent verbs: the first admin, creating operators, checking credentials."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

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


async def get_active_operator(session: AsyncSession, operator_id: int) -> Operator | None:
    """The operator with this id when it exists and is active (checked on every request)."""
    operator = await operators.get_operator(session, operator_id)
    return operator if operator is not None and operator.active else None


async def list_operators(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[Operator], int]:
    """A page of operators and the total count."""
    return await operators.list_operators(session, limit=limit, offset=offset)
