"""Access rules of a group: where (site / station / EVSE) and when (days, local hours, validity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, site_role, station_in_scope
from joule.domain.authorization.windows import ISO_DAYS, aware, parse_hhmm
from joule.domain.group.service import audit_group, get_group
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import AccessRule
from joule.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A new rule; every field left None means 'any'."""

    site_id: str | None = None
    station_id: str | None = None
    evse_id: int | None = None
    days: list[int] | None = None  # ISO 8601: 1 = Monday … 7 = Sunday
    start_time: str | None = None  # "HH:MM", the site's local time
    end_time: str | None = None  # "HH:MM"; not after start = runs past midnight
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def _days(days: list[int] | None) -> list[int] | None:
    if days is None:
        return None
    if not days or any(day not in ISO_DAYS for day in days):
        raise Invalid("days are ISO weekdays 1 (Monday) to 7 (Sunday), at least one")
    return sorted(set(days))


def _time(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_hhmm(value)
    except ValueError as error:
        raise Invalid(f"{field}: {error}") from None
    return value


async def _place(session: AsyncSession, scope: Scope, spec: RuleSpec) -> None:
    if spec.site_id is not None and await site_role(session, scope, spec.site_id) is None:
        raise NotFound(f"site {spec.site_id} does not exist")
    if spec.station_id is not None and not await station_in_scope(session, scope, spec.station_id):
        raise NotFound(f"station {spec.station_id} does not exist")
    if spec.evse_id is not None:
        if spec.station_id is None:
            raise Invalid("an evse_id needs a station_id")
        if spec.evse_id < 1:
            raise Invalid("evse_id starts at 1")


async def add_rule(
    uow: UnitOfWork, scope: Scope, group_id: str, spec: RuleSpec, *, at: datetime
) -> AccessRule:
    """Add a rule to a group (its place must be inside the caller's scope)."""
    session = uow.session
    group = await get_group(session, scope, group_id)
    await _place(session, scope, spec)
    if (
        spec.valid_from is not None
        and spec.valid_until is not None
        and aware(spec.valid_until) <= aware(spec.valid_from)
    ):
        raise Invalid("valid_until must be after valid_from")
    rule = AccessRule(
        group_id=group.id,
        site_id=spec.site_id,
        station_id=spec.station_id,
        evse_id=spec.evse_id,
        days=_days(spec.days),
        start_time=_time("start_time", spec.start_time),
        end_time=_time("end_time", spec.end_time),
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        created_at=at,
    )
    session.add(rule)
    await session.flush()
    audit_group(
        uow,
        scope,
        group,
        "group.rule.add",
        {
            "rule_id": rule.id,
            "site_id": rule.site_id,
            "station_id": rule.station_id,
            "evse_id": rule.evse_id,
            "days": rule.days,
            "start_time": rule.start_time,
            "end_time": rule.end_time,
            "valid_from": rule.valid_from,
            "valid_until": rule.valid_until,
        },
        at,
    )
    return rule


async def list_rules(session: AsyncSession, scope: Scope, group_id: str) -> list[AccessRule]:
    """The group's rules, oldest first."""
    group = await get_group(session, scope, group_id)
    rows = await session.scalars(
        select(AccessRule).where(AccessRule.group_id == group.id).order_by(AccessRule.id)
    )
    return list(rows)


async def delete_rule(
    uow: UnitOfWork, scope: Scope, group_id: str, rule_id: int, *, at: datetime
) -> None:
    """Delete one rule of the group; NotFound when it is not the group's."""
    group = await get_group(uow.session, scope, group_id)
    rule = await uow.session.get(AccessRule, rule_id)
    if rule is None or rule.group_id != group.id:
        raise NotFound(f"rule {rule_id} of group {group.id} does not exist")
    await uow.session.delete(rule)
    await uow.session.flush()
    audit_group(uow, scope, group, "group.rule.delete", {"rule_id": rule_id}, at)
