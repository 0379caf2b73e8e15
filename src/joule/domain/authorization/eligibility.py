"""Which tokens may use a station at some time: the target of its local authorization list.

D01 / 1.6 §3.5: a station holding a local list decides offline (and, with LocalPreAuthorize, before
asking). The list holds every token that may charge here at some time: on a public or mixed station
every valid token of the station's network, on a private one the members of the groups with a rule
covering the place. The Blocked / Expired tokens of that set are listed with their status so the
station refuses them offline instead of falling back to its cache. A list cannot express hours,
days or budgets: offline, a private station admits its groups' members at any time (docs/adr).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import subtree
from joule.domain.authorization.facts import ancestors, network_of, rule_facts, station_view
from joule.domain.authorization.rules import (
    ACCEPTED,
    BLOCKED,
    DRIVER_BLOCKED,
    EXPIRED,
    PRIVATE,
)
from joule.domain.authorization.windows import Place, aware, covers_place
from joule.storage.models import AccessGroup, AccessRule, Driver, IdToken
from joule.storage.repositories import access

# Statuses a station is told about; Invalid tokens are simply left out (unknown = refused).
_LISTED = frozenset({ACCEPTED, BLOCKED, EXPIRED})


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """One entry of a station's local authorization list (1.6 AuthorizationData, 2.0.1 D01)."""

    uid: str
    type: str
    status: str  # Accepted | Blocked | Expired
    expiry: datetime | None  # sent as expiryDate / cacheExpiryDateTime
    group_id: str | None  # parentIdTag / groupIdToken


def _status(token: IdToken, driver: Driver | None, now: datetime) -> str:
    if token.status != ACCEPTED:
        return token.status
    if token.expiry is not None and aware(token.expiry) <= aware(now):
        return EXPIRED
    if driver is not None and driver.status == DRIVER_BLOCKED:
        return BLOCKED
    return ACCEPTED


def _network(
    token: IdToken, driver: Driver | None, parents: Mapping[str, str | None]
) -> str | None:
    owner = token.organisation_id or (driver.organisation_id if driver is not None else None)
    return network_of(parents, owner)


def _rule_lasts(rule: AccessRule, now: datetime) -> bool:
    # A rule whose validity has ended will never admit anyone here again.
    return rule.valid_until is None or aware(rule.valid_until) > aware(now)


def _candidates(
    network: str | None, parents: Mapping[str, str | None], member_ids: set[int] | None
) -> ColumnElement[bool]:
    # Narrow in SQL: listed statuses, the station's network (or network-wide), group members.
    condition: ColumnElement[bool] = IdToken.status.in_(sorted(_LISTED))
    if network is not None:
        orgs = sorted(subtree(parents, network))
        condition = condition & or_(
            IdToken.organisation_id.in_(orgs),
            IdToken.organisation_id.is_(None)
            & or_(Driver.organisation_id.is_(None), Driver.organisation_id.in_(orgs)),
        )
    if member_ids is not None:
        condition = condition & IdToken.id.in_(sorted(member_ids))
    return condition


async def local_list_entries(
    session: AsyncSession, station_id: str, now: datetime
) -> list[LocalEntry]:
    """The tokens that may use this station at some time, and the refused ones of that set."""
    view = await station_view(session, station_id)
    if view is None:
        return []
    parents = await access.organisation_parents(session)
    chain = ancestors(parents, view.organisation_id)
    network = chain[-1] if chain else None
    member_ids: set[int] | None = None  # None: not restricted to group members
    if view.access_mode == PRIVATE:
        place = Place(
            station_id=station_id, site_id=view.station.site_id, organisations=frozenset(chain)
        )
        groups: list[AccessGroup] = [
            group
            for group, rules in await access.all_groups_with_rules(session)
            if any(
                _rule_lasts(rule, now)
                and covers_place(rule_facts(rule), place, group.organisation_id)
                for rule in rules
            )
        ]
        member_ids = await access.member_token_ids(session, groups)
        if not member_ids:
            return []
    entries: list[LocalEntry] = []
    found = await access.tokens_with_drivers(session, _candidates(network, parents, member_ids))
    for token, driver in found:
        if member_ids is not None and token.id not in member_ids:
            continue
        token_network = _network(token, driver, parents)
        if token_network is not None and network is not None and token_network != network:
            continue  # another network's token is unknown here, hence refused
        status = _status(token, driver, now)
        if status not in _LISTED:
            continue
        entries.append(
            LocalEntry(
                uid=token.uid,
                type=token.type,
                status=status,
                expiry=aware(token.expiry) if token.expiry is not None else None,
                group_id=token.group_id,
            )
        )
    return entries
