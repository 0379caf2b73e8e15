"""SQL for operators: the people and integrations that use the API and dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.errors import Conflict
from joule.storage.models import Operator, OperatorSiteGrant, PasswordReset
from joule.storage.repositories.listing import page


async def get_operator(session: AsyncSession, operator_id: int) -> Operator | None:
    """The operator with this id, or None."""
    return await session.get(Operator, operator_id)


async def get_operator_by_email(session: AsyncSession, email: str) -> Operator | None:
    """The operator with this (already normalised) e-mail address, or None."""
    result = await session.execute(select(Operator).where(Operator.email == email))
    return result.scalar_one_or_none()


async def count_operators(session: AsyncSession) -> int:
    """How many operators exist."""
    return int(await session.scalar(select(func.count()).select_from(Operator)) or 0)


async def add_operator(session: AsyncSession, operator: Operator) -> Operator:
    """Insert an operator and flush so its id is known; a taken e-mail raises Conflict."""
    session.add(operator)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another writer took the address between our check and the insert (multi-node).
        raise Conflict(f"operator {operator.email} already exists") from exc
    return operator


async def list_operators(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[Operator], int]:
    """A page of operators ordered by id, and the total count."""
    total = await count_operators(session)
    result = await session.execute(
        select(Operator).order_by(Operator.id).limit(limit).offset(offset)
    )
    return list(result.scalars()), total


async def site_grants_of(session: AsyncSession, operator_id: int) -> list[OperatorSiteGrant]:
    """The site grants of one operator, ordered by site."""
    result = await session.execute(
        select(OperatorSiteGrant)
        .where(OperatorSiteGrant.operator_id == operator_id)
        .order_by(OperatorSiteGrant.site_id)
    )
    return list(result.scalars())


async def list_visible_operators(
    session: AsyncSession, *, visible: ColumnElement[bool], limit: int, offset: int
) -> tuple[list[Operator], int]:
    """A page of the operators matching `visible`, ordered by id, and their count."""
    query = select(Operator).where(visible).order_by(Operator.id)
    return await page(session, query, limit=limit, offset=offset)


async def replace_site_grants(
    session: AsyncSession, operator_id: int, grants: list[OperatorSiteGrant]
) -> None:
    """Replace every site grant of an operator by these."""
    await session.execute(
        delete(OperatorSiteGrant).where(OperatorSiteGrant.operator_id == operator_id)
    )
    session.add_all(grants)
    await session.flush()


async def record_failed_login(
    session: AsyncSession, operator_id: int, *, max_failures: int, locked_until: datetime
) -> int:
    """Count a failed login atomically; lock the account when it reaches max_failures."""
    await session.execute(
        update(Operator)
        .where(Operator.id == operator_id)
        .values(failed_logins=Operator.failed_logins + 1)
    )
    failures = int(
        await session.scalar(select(Operator.failed_logins).where(Operator.id == operator_id)) or 0
    )
    if failures >= max_failures:
        await session.execute(
            update(Operator)
            .where(Operator.id == operator_id)
            .values(locked_until=locked_until, failed_logins=0)
        )
    return failures


async def clear_failed_logins(session: AsyncSession, operator_id: int) -> None:
    """A successful login: forget earlier failures and any lock."""
    await session.execute(
        update(Operator)
        .where(Operator.id == operator_id)
        .values(failed_logins=0, locked_until=None)
    )


async def add_password_reset(session: AsyncSession, reset: PasswordReset) -> None:
    """Store a one-time reset token (its hash)."""
    session.add(reset)
    await session.flush()


async def get_password_reset(session: AsyncSession, token_hash: str) -> PasswordReset | None:
    """The reset with this token hash, or None."""
    return await session.get(PasswordReset, token_hash)
