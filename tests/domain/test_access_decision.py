"""authorization.rules.decide_access: one example per branch, and Hypothesis properties (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joule.domain.authorization.rules import (
    AccessFacts,
    GroupFacts,
    StationFacts,
    TokenFacts,
    decide_access,
    private_now,
)
from joule.domain.authorization.windows import (
    Place,
    RuleFacts,
    covers_time,
    parse_hhmm,
    window_end,
    zone,
)

# Tuesday 2026-03-03 10:00 in Berlin (CET, UTC+1) = 09:00 UTC.
WORKDAY_MORNING = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TUESDAY_NIGHT = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)  # 23:00 in Berlin
SATURDAY_NOON = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"
OFFICE_HOURS = RuleFacts(
    site_id="office", days=frozenset({1, 2, 3, 4, 5}), start=time(7), end=time(19)
)


def token(
    status: str = "Accepted",
    *,
    network: str | None = "acme",
    driver_status: str | None = "Active",
    expiry: datetime | None = None,
    max_concurrent: int = 1,
) -> TokenFacts:
    return TokenFacts(
        uid="EMP-1",
        type="ISO14443",
        status=status,
        expiry=expiry,
        group_id="FAMILY",
        max_concurrent=max_concurrent,
        network=network,
        driver_status=driver_status,
    )


def station(
    mode: str = "private",
    *,
    site: str | None = "office",
    station_id: str = "CS-1",
    evse: int | None = 1,
    network: str | None = "acme",
    orgs: frozenset[str] = frozenset({"acme", "acme-hq"}),
    place_rules: tuple[RuleFacts, ...] = (),
) -> StationFacts:
    return StationFacts(
        place=Place(station_id=station_id, site_id=site, evse_id=evse, organisations=orgs),
        network=network,
        timezone=BERLIN,
        access_mode=mode,
        place_rules=place_rules,
    )


EMPLOYEES = GroupFacts(id="employees", organisation_id="acme-hq", rules=(OFFICE_HOURS,))


def decide(
    tok: TokenFacts | None = None,
    *,
    groups: tuple[GroupFacts, ...] = (EMPLOYEES,),
    at: StationFacts | None = None,
    now: datetime = WORKDAY_MORNING,
    for_start: bool = True,
    active: int = 0,
    presented_type: str | None = None,
) -> tuple[str, str]:
    facts = AccessFacts(
        token=tok,
        presented_type=presented_type,
        groups=groups,
        station=at if at is not None else station(),
        active_transactions=active,
    )
    decision = decide_access(facts, now=now, for_start=for_start)
    return decision.status, decision.reason


def test_unknown_token_is_invalid_unless_policy_type() -> None:
    assert decide(None) == ("Invalid", "unknown id token")
    assert decide(None, presented_type="NoAuthorization")[0] == "Accepted"
    assert decide(None, presented_type="Central")[0] == "Accepted"


@pytest.mark.parametrize("stored", ["Blocked", "Expired", "Invalid", "NoCredit"])
def test_stored_refusal_is_answered_as_stored(stored: str) -> None:
    assert decide(token(stored)) == (stored, f"stored status {stored}")


def test_expiry_passed() -> None:
    assert decide(token(expiry=WORKDAY_MORNING)) == ("Expired", "expiry date passed")
    assert decide(token(expiry=WORKDAY_MORNING + timedelta(days=1)))[0] == "Accepted"


def test_blocked_driver_blocks_every_token() -> None:
    assert decide(token(driver_status="Blocked")) == ("Blocked", "driver blocked")


def test_token_of_another_network_is_invalid() -> None:
    other = station("public", network="rival", orgs=frozenset({"rival"}), site="depot")
    assert decide(token(), at=other) == ("Invalid", "not valid on this network")
    # A network-wide token (no organisation) is valid everywhere; so is an unowned station.
    assert decide(token(network=None), at=other)[0] == "Accepted"
    assert decide(token(), at=station("public", network=None, orgs=frozenset()))[0] == "Accepted"


def test_private_station_admits_group_in_window() -> None:
    status, reason = decide(token())
    assert status == "Accepted"
    assert "employees" in reason


def test_private_station_outside_the_window_is_not_at_this_time() -> None:
    assert decide(token(), now=TUESDAY_NIGHT)[0] == "NotAtThisTime"
    assert decide(token(), now=SATURDAY_NOON)[0] == "NotAtThisTime"


def test_private_station_no_rule_for_the_place_is_not_at_this_location() -> None:
    elsewhere = station(site="warehouse", station_id="CS-9")
    assert decide(token(), at=elsewhere)[0] == "NotAtThisLocation"
    assert decide(token(), groups=())[0] == "NotAtThisLocation"


def test_null_site_rule_covers_the_groups_organisation_only() -> None:
    anywhere = GroupFacts(id="fleet", organisation_id="acme-hq", rules=(RuleFacts(),))
    assert decide(token(), groups=(anywhere,), at=station(site="warehouse"))[0] == "Accepted"
    sister = station(site="branch", orgs=frozenset({"acme", "acme-branch"}))
    assert decide(token(), groups=(anywhere,), at=sister)[0] == "NotAtThisLocation"


def test_station_and_evse_scoped_rules() -> None:
    evse2 = GroupFacts(
        id="g", organisation_id=None, rules=(RuleFacts(station_id="CS-1", evse_id=2),)
    )
    assert decide(token(), groups=(evse2,), at=station(evse=2))[0] == "Accepted"
    assert decide(token(), groups=(evse2,), at=station(evse=1))[0] == "NotAtThisLocation"
    # Authorize before the EVSE is known: the start re-checks it.
    assert decide(token(), groups=(evse2,), at=station(evse=None))[0] == "Accepted"


def test_validity_period() -> None:
    later = RuleFacts(site_id="office", valid_from=WORKDAY_MORNING + timedelta(hours=1))
    ended = RuleFacts(site_id="office", valid_until=WORKDAY_MORNING)
    for rule in (later, ended):
        group = GroupFacts(id="g", organisation_id=None, rules=(rule,))
        assert decide(token(), groups=(group,))[0] == "NotAtThisTime"


def test_public_station_admits_any_valid_token_of_the_network() -> None:
    assert decide(token(), groups=(), at=station("public"))[0] == "Accepted"


def test_mixed_station_is_private_inside_its_windows_public_outside() -> None:
    residents = GroupFacts(id="residents", organisation_id="acme", rules=(OFFICE_HOURS,))
    mixed = station("mixed", place_rules=(OFFICE_HOURS,))
    assert decide(token(), groups=(), at=mixed, now=WORKDAY_MORNING)[0] == "NotAtThisLocation"
    assert decide(token(), groups=(residents,), at=mixed, now=WORKDAY_MORNING)[0] == "Accepted"
    assert decide(token(), groups=(), at=mixed, now=TUESDAY_NIGHT)[0] == "Accepted"


def test_budget_used_up_is_no_credit() -> None:
    spent = GroupFacts(
        id="employees",
        organisation_id="acme-hq",
        rules=(OFFICE_HOURS,),
        budget_wh=Decimal(50000),
        used_wh=Decimal(50000),
    )
    status, reason = decide(token(), groups=(spent,))
    assert status == "NoCredit"
    assert "50000 of 50000 Wh" in reason
    left = GroupFacts(
        id="employees",
        organisation_id="acme-hq",
        rules=(OFFICE_HOURS,),
        budget_wh=Decimal(50000),
        used_wh=Decimal("49999.9"),
    )
    assert decide(token(), groups=(left,))[0] == "Accepted"
    # Another group without a budget still admits the token.
    assert decide(token(), groups=(spent, EMPLOYEES))[0] == "Accepted"


def test_concurrent_transactions_only_for_a_start() -> None:
    assert decide(token(), active=1)[0] == "ConcurrentTx"
    assert decide(token(), active=1, for_start=False)[0] == "Accepted"
    assert decide(token(max_concurrent=0), active=9)[0] == "Accepted"


def test_window_past_midnight_belongs_to_its_start_day() -> None:
    night = RuleFacts(days=frozenset({5}), start=time(22), end=time(6))  # Friday night
    tz = zone("UTC")
    assert covers_time(night, datetime(2026, 3, 6, 23, 0, tzinfo=UTC), tz)  # Fri 23:00
    assert covers_time(night, datetime(2026, 3, 7, 5, 59, tzinfo=UTC), tz)  # Sat 05:59
    assert not covers_time(night, datetime(2026, 3, 7, 6, 0, tzinfo=UTC), tz)
    assert not covers_time(night, datetime(2026, 3, 6, 3, 0, tzinfo=UTC), tz)  # Fri 03:00


def test_window_reads_the_site_time_zone_across_dst() -> None:
    seven_to_nine = RuleFacts(start=time(7), end=time(9))
    berlin = zone(BERLIN)
    assert covers_time(seven_to_nine, datetime(2026, 1, 5, 6, 30, tzinfo=UTC), berlin)  # CET
    assert not covers_time(seven_to_nine, datetime(2026, 7, 6, 7, 30, tzinfo=UTC), berlin)  # 9:30
    assert covers_time(seven_to_nine, datetime(2026, 7, 6, 5, 30, tzinfo=UTC), berlin)  # CEST


@pytest.mark.parametrize("bad", ["7:00", "24:01", "12:60", "ab:cd", "1200", ""])
def test_parse_hhmm_refuses_bad_times(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hhmm(bad)


# -- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
clock_times = st.times().map(lambda t: t.replace(microsecond=0))
day_sets = st.one_of(st.none(), st.frozensets(st.integers(1, 7), min_size=1))
rules = st.builds(
    RuleFacts,
    site_id=st.sampled_from([None, "office", "warehouse"]),
    station_id=st.sampled_from([None, "CS-1", "CS-2"]),
    evse_id=st.sampled_from([None, 1, 2]),
    days=day_sets,
    start=st.one_of(st.none(), clock_times),
    end=st.one_of(st.none(), clock_times),
)
groups = st.builds(
    GroupFacts,
    id=st.sampled_from(["a", "b", "c"]),
    organisation_id=st.sampled_from([None, "acme", "acme-hq", "rival"]),
    rules=st.lists(rules, max_size=3).map(tuple),
    budget_wh=st.one_of(st.none(), st.decimals(0, 10**6, places=0)),
    used_wh=st.decimals(0, 10**6, places=0),
)
stations = st.builds(
    station,
    st.sampled_from(["public", "private", "mixed"]),
    site=st.sampled_from([None, "office", "warehouse"]),
    station_id=st.sampled_from(["CS-1", "CS-2"]),
    evse=st.sampled_from([None, 1, 2]),
    place_rules=st.lists(rules, max_size=3).map(tuple),
)
tokens = st.builds(
    token,
    st.sampled_from(["Accepted", "Accepted", "Blocked", "Expired", "Invalid"]),
    network=st.sampled_from([None, "acme", "rival"]),
    driver_status=st.sampled_from([None, "Active", "Blocked"]),
    max_concurrent=st.integers(0, 3),
)


def _facts(tok: TokenFacts, gs: list[GroupFacts], at: StationFacts, active: int = 0) -> AccessFacts:
    return AccessFacts(token=tok, groups=tuple(gs), station=at, active_transactions=active)


@settings(max_examples=150, deadline=None)
@given(tokens, st.lists(groups, max_size=3), stations, instants, st.booleans())
def test_a_stored_refusal_always_wins(
    tok: TokenFacts, gs: list[GroupFacts], at: StationFacts, now: datetime, start: bool
) -> None:
    decision = decide_access(_facts(tok, gs, at), now=now, for_start=start)
    if tok.status != "Accepted":
        assert decision.status == tok.status
    if decision.accepted:
        assert tok.status == "Accepted" and tok.driver_status != "Blocked"


@settings(max_examples=150, deadline=None)
@given(tokens, st.lists(groups, max_size=3), groups, stations, instants, st.booleans())
def test_another_group_never_takes_access_away(
    tok: TokenFacts,
    gs: list[GroupFacts],
    extra: GroupFacts,
    at: StationFacts,
    now: datetime,
    start: bool,
) -> None:
    before = decide_access(_facts(tok, gs, at), now=now, for_start=start)
    after = decide_access(_facts(tok, [*gs, extra], at), now=now, for_start=start)
    if before.accepted:
        assert after.accepted


@settings(max_examples=150, deadline=None)
@given(tokens, st.lists(groups, max_size=3), stations, instants)
def test_private_access_is_granted_by_a_rule_covering_here_and_now(
    tok: TokenFacts, gs: list[GroupFacts], at: StationFacts, now: datetime
) -> None:
    decision = decide_access(_facts(tok, gs, at), now=now, for_start=False)
    if decision.accepted and private_now(at, now):
        granting = [g for g in gs if g.id == decision.access_group]
        assert granting and any(g.budget_left for g in granting)
    if not private_now(at, now) and tok.status == "Accepted" and tok.expiry is None:
        # Public access: only the driver and the network can refuse a valid token.
        assert decision.accepted or decision.reason in (
            "driver blocked",
            "not valid on this network",
        )


@settings(max_examples=100, deadline=None)
@given(tokens, st.lists(groups, max_size=3), stations, instants, st.integers(0, 5))
def test_only_a_start_is_concurrent(
    tok: TokenFacts, gs: list[GroupFacts], at: StationFacts, now: datetime, active: int
) -> None:
    decision = decide_access(_facts(tok, gs, at, active), now=now, for_start=False)
    assert decision.status != "ConcurrentTx"


@settings(max_examples=150, deadline=None)
@given(clock_times, clock_times, instants)
def test_a_daily_window_covers_exactly_its_hours(start: time, end: time, now: datetime) -> None:
    rule = RuleFacts(start=start, end=end)
    t = now.time()
    if start < end:
        expected = start <= t < end
    elif start == end:
        expected = True
    else:
        expected = t >= start or t < end
    assert covers_time(rule, now, zone("UTC")) is expected


def test_cache_expiry_is_the_end_of_the_admitting_window() -> None:
    facts = AccessFacts(token=token(), groups=(EMPLOYEES,), station=station())
    decision = decide_access(facts, now=WORKDAY_MORNING, for_start=False)
    assert decision.accepted
    assert decision.expiry == datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # 19:00 in Berlin
    # An earlier token expiry wins; a public station adds no window.
    soon = WORKDAY_MORNING + timedelta(hours=1)
    early = AccessFacts(token=token(expiry=soon), groups=(EMPLOYEES,), station=station())
    assert decide_access(early, now=WORKDAY_MORNING, for_start=False).expiry == soon
    public = AccessFacts(token=token(), groups=(EMPLOYEES,), station=station("public"))
    assert decide_access(public, now=WORKDAY_MORNING, for_start=False).expiry is None


def test_window_end_past_midnight_and_all_day() -> None:
    tz = zone("UTC")
    night = RuleFacts(start=time(22), end=time(6))
    friday_23 = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
    assert window_end(night, friday_23, tz) == datetime(2026, 3, 7, 6, 0, tzinfo=UTC)
    saturday_3 = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
    assert window_end(night, saturday_3, tz) == datetime(2026, 3, 7, 6, 0, tzinfo=UTC)
    weekdays = RuleFacts(days=frozenset({1, 2, 3, 4, 5}))
    assert window_end(weekdays, friday_23, tz) == datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    assert window_end(RuleFacts(), friday_23, tz) is None
    until = RuleFacts(valid_until=datetime(2026, 3, 6, 23, 30, tzinfo=UTC), days=frozenset({5}))
    assert window_end(until, friday_23, tz) == datetime(2026, 3, 6, 23, 30, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(tokens, st.lists(groups, max_size=3), stations, instants)
def test_an_accepted_cache_expiry_lies_ahead(
    tok: TokenFacts, gs: list[GroupFacts], at: StationFacts, now: datetime
) -> None:
    decision = decide_access(_facts(tok, gs, at), now=now, for_start=False)
    if decision.accepted and decision.expiry is not None:
        assert decision.expiry > now
