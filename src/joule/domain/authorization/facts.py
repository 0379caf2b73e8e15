"""Load what decide_access needs: a handful of queries per decision, never one per group or rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.authorization.rules import (
    ACCEPTED,
    MIXED,
    PUBLIC,
    AccessFacts,
    GroupFacts,
    StationFacts,
    TokenFacts,
)
from joule.domain.authorization.windows import Place, RuleFacts, aware, parse_hhmm, zone
from joule.storage.models import AccessRule, Driver, IdToken, Site, Station
from joule.storage.repositories import access
from joule.storage.repositories import token as tokens


def ancestors(parents: Mapping[str, str | None], organisation_id: str | None) -> list[str]:
    """The organisation and its ancestors, nearest first (empty for None); cycles stop the walk."""
    chain: list[str] = []
    current = organisation_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def network_of(parents: Mapping[str, str | None], organisation_id: str | None) -> str | None:
    """The root organisation (the network) an organisation belongs to; None for none."""
    chain = ancestors(parents, organisation_id)
    return chain[-1] if chain else None


def rule_facts(rule: AccessRule) -> RuleFacts:
    """The rule-facing view of a stored access rule."""
    return RuleFacts(
        site_id=rule.site_id,
        station_id=rule.station_id,
        evse_id=rule.evse_id,
        days=frozenset(rule.days) if rule.days is not None else None,
        start=parse_hhmm(rule.start_time) if rule.start_time else None,
        end=parse_hhmm(rule.end_time) if rule.end_time else None,
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
    )


def token_facts(
    token: IdToken, driver: Driver | None, parents: Mapping[str, str | None]
) -> TokenFacts:
    """The rule-facing view of a stored token; its organisation is its own, else its driver's."""
    owner = token.organisation_id or (driver.organisation_id if driver is not None else None)
    return TokenFacts(
        uid=token.uid,
        type=token.type,
        status=token.status,
        expiry=token.expiry,
        group_id=token.group_id,
        max_concurrent=token.max_concurrent,
        network=network_of(parents, owner),
        driver_status=driver.status if driver is not None else None,
    )


@dataclass(frozen=True, slots=True)
class StationView:
    """The station and its site as the rules see them."""

    station: Station
    site: Site | None
    organisation_id: str | None  # effective: the site's, else the station's

    @property
    def access_mode(self) -> str:
        """The station's override, else its site's, else public."""
        site_mode = self.site.access_mode if self.site is not None else None
        return self.station.access_mode or site_mode or PUBLIC

    @property
    def timezone(self) -> str | None:
        """The site's zone (the rules' local time), else the station's."""
        return self.site.timezone if self.site is not None else self.station.timezone


async def station_view(session: AsyncSession, station_id: str) -> StationView | None:
    """The station with its site; None when unknown."""
    found = await access.station_with_site(session, station_id)
    if found is None:
        return None
    station, site = found
    owner = site.organisation_id if site is not None else station.organisation_id
    return StationView(station, site, owner)


async def station_facts(
    session: AsyncSession,
    view: StationView,
    *,
    evse_id: int | None,
    parents: Mapping[str, str | None],
) -> StationFacts:
    """The rule-facing view of a station; a mixed station also brings its place's rules."""
    chain = ancestors(parents, view.organisation_id)
    mode = view.access_mode
    place_rules: tuple[RuleFacts, ...] = ()
    if mode == MIXED:
        rules = await access.place_rules(session, view.station.id, view.station.site_id)
        place_rules = tuple(rule_facts(r) for r in rules)
    return StationFacts(
        place=Place(
            station_id=view.station.id,
            site_id=view.station.site_id,
            evse_id=evse_id,
            organisations=frozenset(chain),
        ),
        network=chain[-1] if chain else None,
        timezone=view.timezone,
        access_mode=mode,
        place_rules=place_rules,
    )


def month_start(now: datetime, timezone: str | None) -> datetime:
    """The first instant of this calendar month in the site's time zone."""
    local = aware(now).astimezone(zone(timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def load(
    session: AsyncSession,
    token: IdToken | None,
    *,
    station_id: str | None,
    evse_id: int | None,
    now: datetime,
    for_start: bool,
    exclude_tx: int | None,
    presented_type: str | None,
) -> AccessFacts:
    """Everything decide_access needs about this token at this station, now."""
    if token is None:
        return AccessFacts(token=None, presented_type=presented_type)
    driver = await session.get(Driver, token.driver_id) if token.driver_id is not None else None
    view = await station_view(session, station_id) if station_id is not None else None
    owner = token.organisation_id or (driver.organisation_id if driver is not None else None)
    # The organisation tree matters for a token of some network or a non-public station only;
    # the common case (network-wide token, public station) skips the query.
    needs_tree = owner is not None or (view is not None and view.access_mode != PUBLIC)
    parents = await access.organisation_parents(session) if needs_tree else {}
    facts = token_facts(token, driver, parents)
    station = (
        await station_facts(session, view, evse_id=evse_id, parents=parents)
        if view is not None
        else None
    )
    groups: tuple[GroupFacts, ...] = ()
    if station is not None and station.access_mode != PUBLIC:
        groups = await _groups(session, token, now=now, tz=station.timezone, exclude_tx=exclude_tx)
    active = 0
    if for_start and token.status == ACCEPTED and token.max_concurrent > 0:
        # Only a start can be refused for ConcurrentTx; the count is skipped otherwise.
        active = await tokens.count_active_transactions(session, token.uid, exclude_pk=exclude_tx)
    return AccessFacts(
        token=facts,
        presented_type=presented_type,
        groups=groups,
        station=station,
        active_transactions=active,
    )


async def _groups(
    session: AsyncSession, token: IdToken, *, now: datetime, tz: str | None, exclude_tx: int | None
) -> tuple[GroupFacts, ...]:
    found = await access.groups_with_rules(session, token)
    used = Decimal(0)
    if any(group.monthly_energy_budget_wh is not None for group, _ in found):
        # The driver's energy across all their tokens (the token's own when it has no driver).
        uids = (
            await access.driver_token_uids(session, token.driver_id)
            if token.driver_id is not None
            else [token.uid]
        )
        used = await access.energy_used(
            session, uids, since=month_start(now, tz), exclude_pk=exclude_tx
        )
    return tuple(
        GroupFacts(
            id=group.id,
            organisation_id=group.organisation_id,
            rules=tuple(rule_facts(r) for r in rules),
            budget_wh=group.monthly_energy_budget_wh,
            used_wh=used,
        )
        for group, rules in found
    )
