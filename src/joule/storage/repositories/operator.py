"""SQL for operators: the people and integrations that use the API and dashboard."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.errors import Conflict
from joule.storage.models import Operator, OperatorSiteGrant


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
