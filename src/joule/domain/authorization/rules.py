"""Authorization rules: decide what an id token may do, as a pure function (C16 §4.2, P2 C01).

`decide_access` is the whole decision of issue 5, in this order: unknown → Invalid (NoAuthorization
and Central accepted by policy); a stored refusal as stored; expired; driver blocked; another
network's token; the station's access mode (public / private / mixed) against the token's groups
and their rules; the matching group's monthly energy budget; ConcurrentTx. The
statuses are version-neutral: the handlers map 2.0.1-only ones onto 1.6 (handlers.id_tag_info).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from joule.domain.authorization.windows import (
    Place,
    RuleFacts,
    aware,
    covers_place,
    covers_time,
    window_end,
    zone,
)

# Stored statuses a token can carry; 2.x statuses beyond 1.6's are kept as stored (P2 C01).
ACCEPTED = "Accepted"
BLOCKED = "Blocked"
EXPIRED = "Expired"
INVALID = "Invalid"
CONCURRENT_TX = "ConcurrentTx"

# Presented token types that are not looked up. NoAuthorization: the station charges without
# identification (free vend, P2 C01 'NoAuthorization'); Central: an id the CSMS generated itself
# for a remote start (P2 F01). Joule's policy is to accept both when they are not on file.
POLICY_ACCEPTED_TYPES = frozenset({"NoAuthorization", "Central"})


# 2.0.1 statuses (IdTokenInfoType.status) the access rules produce; 1.6 answers Invalid / Blocked.
NOT_AT_THIS_TIME = "NotAtThisTime"
NOT_AT_THIS_LOCATION = "NotAtThisLocation"
NO_CREDIT = "NoCredit"

DRIVER_BLOCKED = "Blocked"

PUBLIC = "public"
PRIVATE = "private"
MIXED = "mixed"
ACCESS_MODES = (PUBLIC, PRIVATE, MIXED)


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What the CSMS knows about an id token on file."""

    uid: str
    type: str
    status: str
    expiry: datetime | None
    group_id: str | None
    max_concurrent: int  # ≤ 0 = unlimited
    network: str | None = None  # root organisation of the token's (or its driver's); None = any
    driver_status: str | None = None  # None: no driver


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """An access group the token belongs to, its rules and this month's usage against its budget."""

    id: str
    organisation_id: str | None
    rules: tuple[RuleFacts, ...] = ()
    budget_wh: Decimal | None = None
    used_wh: Decimal = Decimal(0)

    @property
    def budget_left(self) -> bool:
        """True when the group has no budget or this month's energy is still below it."""
        return self.budget_wh is None or self.used_wh < self.budget_wh


@dataclass(frozen=True, slots=True)
class StationFacts:
    """The station a token is presented at, as the access rules see it."""

    place: Place
    network: str | None  # root organisation of the station's effective organisation
    timezone: str | None  # the site's IANA zone (else the station's), rules' local time
    access_mode: str  # station override, else the site's, else public
    # Rules of any group naming this site or station: in mixed mode, their windows are private.
    place_rules: tuple[RuleFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """Everything the decision needs, loaded up front (authorization.facts)."""

    token: TokenFacts | None
    presented_type: str | None = None
    groups: tuple[GroupFacts, ...] = ()
    station: StationFacts | None = None  # None: no place to judge (token checks only)
    active_transactions: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an authorization, version-neutral."""

    status: str
    reason: str
    expiry: datetime | None = None
    group_id: str | None = None  # the token's OCPP group (parentIdTag / groupIdToken)
    access_group: str | None = None  # the access group whose rule let the token in

    @property
    def accepted(self) -> bool:
        """True when the token may charge."""
        return self.status == ACCEPTED


def decide_access(facts: AccessFacts, *, now: datetime, for_start: bool) -> Decision:
    """Decide the authorization status of a presented id token at a station, now."""
    token = facts.token
    if token is None:
        if facts.presented_type in POLICY_ACCEPTED_TYPES:
            return Decision(ACCEPTED, f"policy: {facts.presented_type} tokens are accepted")
        return Decision(INVALID, "unknown id token")
    expiry = aware(token.expiry) if token.expiry is not None else None

    def refuse(status: str, reason: str) -> Decision:
        return Decision(status, reason, expiry, token.group_id)

    if token.status != ACCEPTED:
        # Blocked / Expired / Invalid (and 2.x NoCredit, NotAtThisTime …) are answered as stored.
        return refuse(token.status, f"stored status {token.status}")
    if expiry is not None and expiry <= aware(now):
        return refuse(EXPIRED, "expiry date passed")
    if token.driver_status == DRIVER_BLOCKED:
        return refuse(BLOCKED, "driver blocked")
    access_group: str | None = None
    station = facts.station
    if station is not None:
        if token.network is not None and station.network not in (None, token.network):
            return refuse(INVALID, "not valid on this network")
        verdict = _access(facts.groups, station, now)
        if isinstance(verdict, Decision):
            return refuse(verdict.status, verdict.reason)
        if verdict is not None:
            access_group = verdict.group_id
            if verdict.until is not None and (expiry is None or verdict.until < expiry):
                # The station's cache must not admit the token past the rule's window.
                expiry = verdict.until
    if for_start and 0 < token.max_concurrent <= facts.active_transactions:
        # C16 §4.2 / P2 C01: ConcurrentTx = already involved in another transaction.
        return refuse(
            CONCURRENT_TX,
            f"{facts.active_transactions} active transaction(s), limit {token.max_concurrent}",
        )
    reason = "accepted" if access_group is None else f"accepted: access group {access_group}"
    return Decision(ACCEPTED, reason, expiry, token.group_id, access_group)


def private_now(station: StationFacts, now: datetime) -> bool:
    """Whether the station admits listed groups only at this moment (its access mode and rules)."""
    if station.access_mode == PRIVATE:
        return True
    if station.access_mode != MIXED:
        return False
    # Mixed: private during the union of the windows of rules naming this site or station.
    tz = zone(station.timezone)
    return any(
        (rule.site_id is not None or rule.station_id is not None)
        and covers_place(rule, station.place, None)
        and covers_time(rule, now, tz)
        for rule in station.place_rules
    )


@dataclass(frozen=True, slots=True)
class _Grant:
    group_id: str
    until: datetime | None  # when the admitting rule's window closes (None: it does not)


def _access(
    groups: tuple[GroupFacts, ...], station: StationFacts, now: datetime
) -> _Grant | Decision | None:
    """The access group that admits the token (None: public access), or the refusal."""
    if not private_now(station, now):
        return None
    tz = zone(station.timezone)
    place = station.place
    placed = [
        (group, rule)
        for group in groups
        for rule in group.rules
        if covers_place(rule, place, group.organisation_id)
    ]
    timely = [(group, rule) for group, rule in placed if covers_time(rule, now, tz)]
    if not timely:
        if placed:
            return Decision(
                NOT_AT_THIS_TIME, f"{station.access_mode} station: outside the access rules' hours"
            )
        return Decision(
            NOT_AT_THIS_LOCATION,
            f"{station.access_mode} station: no access group of the token covers it",
        )
    for group, _ in timely:
        if group.budget_left:
            ends = [window_end(rule, now, tz) for g, rule in timely if g.id == group.id]
            return _Grant(group.id, None if None in ends else max(e for e in ends if e))
    spent = timely[0][0]
    return Decision(
        NO_CREDIT,
        f"monthly energy budget of access group {spent.id} used: "
        f"{spent.used_wh} of {spent.budget_wh} Wh",
    )


def decide(
    token: TokenFacts | None,
    *,
    now: datetime,
    active_transactions: int,
    for_start: bool,
    presented_type: str | None = None,
) -> Decision:
    """Decide on the token alone (no station: access modes and rules are not judged)."""
    facts = AccessFacts(
        token=token, presented_type=presented_type, active_transactions=active_transactions
    )
    return decide_access(facts, now=now, for_start=for_start)
