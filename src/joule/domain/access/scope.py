"""A caller's scope: the organisations whose data it sees, its role, its site grants.

Organisations form a tree. A caller bound to an organisation sees that organisation and every
descendant, never a sibling or a parent; a caller with no organisation (a *root* caller) sees
everything. Objects outside the scope answer 404, never 403, so their existence does not leak
(issue 5). Site grants add single sites (and their stations, sessions, alerts and command logs)
to an operator's scope, with the grant's role on them (docs/roles.md).

The SQL helpers return WHERE conditions; repositories accept them as an opaque `visible` argument,
so storage stays ignorant of the rules while every list and detail query filters in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from joule.domain.operator.rules import OperatorRole, may_administer, may_change
from joule.storage.models import (
    AccessGroup,
    Driver,
    IdToken,
    Organisation,
    Site,
    Station,
    Transaction,
)

_RANK = {OperatorRole.VIEWER: 0, OperatorRole.OPERATOR: 1, OperatorRole.ADMIN: 2}


def stronger_role(first: str, second: str) -> str:
    """The role that may do more of the two (admin > operator > viewer)."""
    return (
        first if _RANK.get(OperatorRole(first), 0) >= _RANK.get(OperatorRole(second), 0) else second
    )


@dataclass(frozen=True, slots=True)
class SiteGrant:
    """A role on one site, beyond the caller's organisation scope."""

    site_id: str
    role: str  # operator | viewer


@dataclass(frozen=True, slots=True)
class Scope:
    """What a caller sees and may do; built once per request from the bearer token or API key."""

    organisation_ids: frozenset[str] | None  # None = every organisation (a root caller)
    role: str  # the role in the organisation scope: admin | operator | viewer
    site_grants: frozenset[SiteGrant] = frozenset()
    organisation_id: str | None = None  # the caller's own organisation (None = root)
    actor: str = "system"  # e-mail of the operator, or "api-key:<prefix>"; never a secret
    actor_type: str = "system"  # operator | api_key | system
    operator_id: int | None = None

    @property
    def is_root(self) -> bool:
        """True when the caller sees every organisation."""
        return self.organisation_ids is None

    @property
    def granted_site_ids(self) -> frozenset[str]:
        """The sites the caller holds an explicit grant on."""
        return frozenset(grant.site_id for grant in self.site_grants)

    def sees_organisation(self, organisation_id: str | None) -> bool:
        """True when an object owned by this organisation is inside the scope."""
        if self.organisation_ids is None:
            return True
        return organisation_id is not None and organisation_id in self.organisation_ids

    def role_at(self, *, organisation_id: str | None, site_id: str | None) -> str | None:
        """The caller's role on an object of this organisation and site; None = not visible."""
        role = self.role if self.sees_organisation(organisation_id) else None
        for grant in self.site_grants:
            if site_id is not None and grant.site_id == site_id:
                role = grant.role if role is None else stronger_role(role, grant.role)
        return role

    @property
    def may_change(self) -> bool:
        """True when the base role may change data and send commands."""
        return may_change(self.role)

    @property
    def may_administer(self) -> bool:
        """True when the base role is admin."""
        return may_administer(self.role)


ROOT = Scope(organisation_ids=None, role=OperatorRole.ADMIN)
"""The scope of the system itself (CLI, background jobs): everything, as admin."""


def subtree(edges: Mapping[str, str | None], root: str) -> frozenset[str]:
    """The organisation `root` and every descendant, given child → parent edges."""
    children: dict[str, list[str]] = {}
    for child, parent in edges.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[str] = set()
    pending = [root]
    while pending:
        current = pending.pop()
        if current in found:  # a cycle cannot be stored through the API; never loop on one
            continue
        found.add(current)
        pending.extend(children.get(current, ()))
    return frozenset(found)


async def organisation_edges(session: AsyncSession) -> dict[str, str | None]:
    """Every organisation's parent (organisations are few: one small query per request)."""
    rows = await session.execute(select(Organisation.id, Organisation.parent_id))
    return {row[0]: row[1] for row in rows}


async def build_scope(
    session: AsyncSession,
    *,
    organisation_id: str | None,
    role: str,
    grants: Iterable[tuple[str, str]] = (),
    actor: str,
    actor_type: str,
    operator_id: int | None = None,
) -> Scope:
    """The scope of a caller bound to `organisation_id` (None = root) with this role and grants."""
    ids = (
        None
        if organisation_id is None
        else subtree(await organisation_edges(session), organisation_id)
    )
    return Scope(
        organisation_ids=ids,
        role=role,
        site_grants=frozenset(SiteGrant(site_id, grant_role) for site_id, grant_role in grants),
        organisation_id=organisation_id,
        actor=actor,
        actor_type=actor_type,
        operator_id=operator_id,
    )


def _in(column: InstrumentedAttribute[Any], ids: frozenset[str]) -> ColumnElement[bool]:
    if not ids:
        return false()
    return column.in_(sorted(ids))


def site_condition(scope: Scope) -> ColumnElement[bool]:
    """Sites inside the scope: owned by a visible organisation, or granted."""
    if scope.organisation_ids is None:
        return true()
    return or_(
        _in(Site.organisation_id, scope.organisation_ids), _in(Site.id, scope.granted_site_ids)
    )


def station_condition(scope: Scope) -> ColumnElement[bool]:
    """Stations inside the scope: a site's organisation wins; without a site, the station's own."""
    if scope.organisation_ids is None:
        return true()
    visible_sites = select(Site.id).where(_in(Site.organisation_id, scope.organisation_ids))
    return or_(
        Station.site_id.in_(visible_sites),
        and_(Station.site_id.is_(None), _in(Station.organisation_id, scope.organisation_ids)),
        _in(Station.site_id, scope.granted_site_ids),
    )


def by_station(scope: Scope, station_id_column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Rows keyed by a station (sessions, alerts, command log) whose station is in the scope."""
    if scope.organisation_ids is None:
        return true()
    visible = select(Station.id).where(station_condition(scope))
    return station_id_column.in_(visible)


def transaction_condition(scope: Scope) -> ColumnElement[bool]:
    """Sessions inside the scope: those of a visible station."""
    return by_station(scope, Transaction.station_id)


def token_condition(scope: Scope) -> ColumnElement[bool]:
    """Tokens inside the scope: the token's organisation, or its driver's when it has none."""
    if scope.organisation_ids is None:
        return true()
    drivers = select(Driver.id).where(_in(Driver.organisation_id, scope.organisation_ids))
    return or_(
        _in(IdToken.organisation_id, scope.organisation_ids),
        and_(IdToken.organisation_id.is_(None), IdToken.driver_id.in_(drivers)),
    )


def driver_condition(scope: Scope) -> ColumnElement[bool]:
    """Drivers inside the scope: their own organisation."""
    if scope.organisation_ids is None:
        return true()
    return _in(Driver.organisation_id, scope.organisation_ids)


def group_condition(scope: Scope) -> ColumnElement[bool]:
    """Access groups inside the scope: their own organisation."""
    if scope.organisation_ids is None:
        return true()
    return _in(AccessGroup.organisation_id, scope.organisation_ids)


def organisation_condition(scope: Scope, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Any row owned through an organisation column (operators, API keys, audit entries)."""
    if scope.organisation_ids is None:
        return true()
    return _in(column, scope.organisation_ids)


@dataclass(frozen=True, slots=True)
class StationOwner:
    """Where a station sits: its effective organisation and its site."""

    station_id: str
    organisation_id: str | None
    site_id: str | None = field(default=None)


async def station_owner(session: AsyncSession, station_id: str) -> StationOwner | None:
    """The station's effective organisation (its site's, else its own), or None if unknown."""
    row = (
        await session.execute(
            select(Station.id, Station.site_id, Station.organisation_id, Site.organisation_id)
            .outerjoin(Site, Site.id == Station.site_id)
            .where(Station.id == station_id)
        )
    ).first()
    if row is None:
        return None
    _, site_id, own_org, site_org = row
    return StationOwner(
        station_id=station_id,
        organisation_id=site_org if site_id is not None else own_org,
        site_id=site_id,
    )


async def station_role(session: AsyncSession, scope: Scope, station_id: str) -> str | None:
    """The caller's role on this station; None when it is unknown or outside the scope."""
    owner = await station_owner(session, station_id)
    if owner is None:
        return None
    return scope.role_at(organisation_id=owner.organisation_id, site_id=owner.site_id)


async def station_in_scope(session: AsyncSession, scope: Scope, station_id: str) -> bool:
    """True when the station exists and the caller may see it."""
    return await station_role(session, scope, station_id) is not None


async def site_role(session: AsyncSession, scope: Scope, site_id: str) -> str | None:
    """The caller's role on this site; None when it is unknown or outside the scope."""
    site = await session.get(Site, site_id)
    if site is None:
        return None
    return scope.role_at(organisation_id=site.organisation_id, site_id=site.id)


def station_or_site_condition(
    scope: Scope,
    station_id_column: InstrumentedAttribute[Any],
    site_id_column: InstrumentedAttribute[Any],
) -> ColumnElement[bool]:
    """Rows about a station or, without one, a site (alerts): visible through either.

    Rows about neither (fleet-wide) belong to no organisation: root callers only.
    """
    if scope.organisation_ids is None:
        return true()
    stations = select(Station.id).where(station_condition(scope))
    sites = select(Site.id).where(site_condition(scope))
    return or_(
        station_id_column.in_(stations),
        and_(station_id_column.is_(None), site_id_column.in_(sites)),
    )


async def place_role(
    session: AsyncSession, scope: Scope, *, station_id: str | None, site_id: str | None
) -> str | None:
    """The caller's role on a row about a station or a site; None = outside the scope."""
    if scope.organisation_ids is None:
        return scope.role
    if station_id is not None:
        return await station_role(session, scope, station_id)
    if site_id is not None:
        return await site_role(session, scope, site_id)
    return None


def changeable_station_condition(scope: Scope) -> ColumnElement[bool]:
    """Stations the caller may command: its organisations' (when its role may change data) and
    those of sites granted to it with the operator role; never view-only ones."""
    if scope.organisation_ids is None:
        return true() if may_change(scope.role) else false()
    granted = frozenset(g.site_id for g in scope.site_grants if may_change(g.role))
    if may_change(scope.role):
        visible_sites = select(Site.id).where(_in(Site.organisation_id, scope.organisation_ids))
        owned: ColumnElement[bool] = or_(
            Station.site_id.in_(visible_sites),
            and_(Station.site_id.is_(None), _in(Station.organisation_id, scope.organisation_ids)),
        )
    else:
        owned = false()
    return or_(owned, _in(Station.site_id, granted))
