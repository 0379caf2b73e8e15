"""Access facts: a token's groups and rules, a station's place, energy used. Never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import (
    AccessGroup,
    AccessRule,
    Driver,
    GroupDriver,
    GroupToken,
    IdToken,
    Organisation,
    Site,
    Station,
    Transaction,
)


async def organisation_parents(session: AsyncSession) -> dict[str, str | None]:
    """Every organisation's parent (organisations are few)."""
    rows = await session.execute(select(Organisation.id, Organisation.parent_id))
    return {org_id: parent for org_id, parent in rows.all()}


async def station_with_site(
    session: AsyncSession, station_id: str
) -> tuple[Station, Site | None] | None:
    """The station and its site, in one query; None when the station is unknown."""
    row = (
        await session.execute(
            select(Station, Site)
            .outerjoin(Site, Site.id == Station.site_id)
            .where(Station.id == station_id)
        )
    ).first()
    if row is None:
        return None
    return row[0], row[1]


def _member_of(token: IdToken) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        AccessGroup.id.in_(select(GroupToken.group_id).where(GroupToken.token_id == token.id))
    ]
    if token.driver_id is not None:
        conditions.append(
            AccessGroup.id.in_(
                select(GroupDriver.group_id).where(GroupDriver.driver_id == token.driver_id)
            )
        )
    if token.group_id is not None:
        # 1.6 parentIdTag / 2.0.1 groupIdToken: a family or fleet sharing one group id token.
        conditions.append(AccessGroup.id_token_group == token.group_id)
    return or_(*conditions)


async def groups_with_rules(
    session: AsyncSession, token: IdToken
) -> list[tuple[AccessGroup, list[AccessRule]]]:
    """The token's access groups (directly, through its driver, through its group id) and rules."""
    groups = list(
        await session.scalars(select(AccessGroup).where(_member_of(token)).order_by(AccessGroup.id))
    )
    if not groups:
        return []
    rules = await session.scalars(
        select(AccessRule)
        .where(AccessRule.group_id.in_([g.id for g in groups]))
        .order_by(AccessRule.id)
    )
    by_group: dict[str, list[AccessRule]] = {g.id: [] for g in groups}
    for rule in rules:
        by_group[rule.group_id].append(rule)
    return [(g, by_group[g.id]) for g in groups]


async def place_rules(
    session: AsyncSession, station_id: str, site_id: str | None
) -> list[AccessRule]:
    """Rules of any group naming this station or its site (a mixed station's private hours)."""
    named = AccessRule.station_id == station_id
    if site_id is not None:
        named = or_(named, AccessRule.site_id == site_id)
    return list(await session.scalars(select(AccessRule).where(named).order_by(AccessRule.id)))


async def energy_used(
    session: AsyncSession, uids: Collection[str], *, since: datetime, exclude_pk: int | None
) -> Decimal:
    """Energy (Wh) of the sessions these tokens started since `since`, open ones up to now."""
    if not uids:
        return Decimal(0)
    end = func.coalesce(
        Transaction.meter_stop_wh, Transaction.last_meter_wh, Transaction.meter_start_wh
    )
    query = select(func.coalesce(func.sum(end - Transaction.meter_start_wh), 0)).where(
        Transaction.id_token.in_(sorted(uids)),
        Transaction.started_at >= since,
        Transaction.meter_start_wh.is_not(None),
    )
    if exclude_pk is not None:
        query = query.where(Transaction.id != exclude_pk)
    return Decimal(str(await session.scalar(query) or 0))


async def driver_token_uids(session: AsyncSession, driver_id: int) -> list[str]:
    """The uids of a driver's tokens."""
    return list(await session.scalars(select(IdToken.uid).where(IdToken.driver_id == driver_id)))


async def tokens_with_drivers(
    session: AsyncSession, condition: ColumnElement[bool] | None = None
) -> list[tuple[IdToken, Driver | None]]:
    """Tokens (optionally filtered) with their drivers, in one query, ordered by uid."""
    query = (
        select(IdToken, Driver)
        .outerjoin(Driver, Driver.id == IdToken.driver_id)
        .order_by(IdToken.uid)
    )
    if condition is not None:
        query = query.where(condition)
    return [(token, driver) for token, driver in (await session.execute(query)).all()]


async def groups_covering(session: AsyncSession, group_ids: Collection[str]) -> list[AccessGroup]:
    """Access groups by id."""
    if not group_ids:
        return []
    return list(
        await session.scalars(select(AccessGroup).where(AccessGroup.id.in_(sorted(group_ids))))
    )


async def all_groups_with_rules(
    session: AsyncSession,
) -> list[tuple[AccessGroup, list[AccessRule]]]:
    """Every access group that has at least one rule, with its rules (two queries)."""
    rules = list(await session.scalars(select(AccessRule).order_by(AccessRule.id)))
    if not rules:
        return []
    by_group: dict[str, list[AccessRule]] = {}
    for rule in rules:
        by_group.setdefault(rule.group_id, []).append(rule)
    groups = await groups_covering(session, by_group)
    return [(g, by_group[g.id]) for g in groups]


async def member_token_ids(session: AsyncSession, groups: Collection[AccessGroup]) -> set[int]:
    """Ids of the tokens in these groups: directly, through a driver, through the group id."""
    if not groups:
        return set()
    ids = [g.id for g in groups]
    group_tokens = [g.id_token_group for g in groups if g.id_token_group is not None]
    conditions: list[ColumnElement[bool]] = [
        IdToken.id.in_(select(GroupToken.token_id).where(GroupToken.group_id.in_(ids))),
        IdToken.driver_id.in_(select(GroupDriver.driver_id).where(GroupDriver.group_id.in_(ids))),
    ]
    if group_tokens:
        conditions.append(IdToken.group_id.in_(group_tokens))
    return set(await session.scalars(select(IdToken.id).where(or_(*conditions))))
