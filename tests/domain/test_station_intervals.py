"""The pure status-history planner: worked examples and an order-independence property."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from joule.domain.station.intervals import IntervalPlan, Span, plan_status, utc

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_first_status_opens_the_history() -> None:
    plan = plan_status(None, None, status="Available", error_code=None, at=at(0))
    assert plan == IntervalPlan(opens=(Span("Available", None, at(0), None),), is_current=True)


def test_new_status_closes_the_open_interval() -> None:
    open_span = Span("Available", None, at(0), None)
    plan = plan_status(open_span, None, status="Charging", error_code=None, at=at(5))
    assert plan == IntervalPlan(
        close_previous_at=at(5), opens=(Span("Charging", None, at(5), None),), is_current=True
    )


def test_same_state_is_no_change_but_still_current() -> None:
    open_span = Span("Faulted", "GroundFailure", at(0), None)
    plan = plan_status(open_span, None, status="Faulted", error_code="GroundFailure", at=at(5))
    assert plan == IntervalPlan(is_current=True)


def test_other_error_code_is_a_new_state() -> None:
    open_span = Span("Faulted", "GroundFailure", at(0), None)
    plan = plan_status(open_span, None, status="Faulted", error_code="UnderVoltage", at=at(5))
    assert plan.opens == (Span("Faulted", "UnderVoltage", at(5), None),)


def test_late_status_splits_the_interval_it_falls_in() -> None:
    previous = Span("Available", None, at(0), at(20))
    following = Span("Faulted", None, at(20), None)
    plan = plan_status(previous, following, status="Charging", error_code=None, at=at(10))
    assert plan == IntervalPlan(
        close_previous_at=at(10), opens=(Span("Charging", None, at(10), at(20)),), is_current=False
    )


def test_late_status_equal_to_the_next_one_keeps_its_own_boundary() -> None:
    previous = Span("Available", None, at(0), at(20))
    following = Span("Charging", None, at(20), None)
    plan = plan_status(
        previous, following, status="Charging", error_code=None, at=at(10), last_report_at=at(20)
    )
    assert plan == IntervalPlan(
        close_previous_at=at(10), opens=(Span("Charging", None, at(10), at(20)),)
    )


def test_late_repeat_splits_the_interval_it_falls_in() -> None:
    """Available@0, Faulted@40, then a late Available@30: a later Charging@20 must end at 30."""
    previous = Span("Available", None, at(0), at(40))
    following = Span("Faulted", None, at(40), None)
    plan = plan_status(
        previous, following, status="Available", error_code=None, at=at(30), last_report_at=at(40)
    )
    assert plan == IntervalPlan(
        close_previous_at=at(30), opens=(Span("Available", None, at(30), at(40)),)
    )


def test_exact_duplicate_changes_nothing() -> None:
    previous = Span("Available", None, at(0), at(40))
    following = Span("Faulted", None, at(40), None)
    plan = plan_status(
        previous, following, status="Available", error_code=None, at=at(0), last_report_at=at(40)
    )
    assert plan == IntervalPlan()


def test_status_before_all_history_ends_where_it_begins() -> None:
    following = Span("Charging", None, at(0), None)
    plan = plan_status(None, following, status="Reserved", error_code=None, at=at(-5))
    assert plan == IntervalPlan(opens=(Span("Reserved", None, at(-5), at(0)),))


def test_times_are_normalised_to_utc() -> None:
    local = datetime(2026, 11, 28, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    plan = plan_status(None, None, status="Available", error_code=None, at=local)
    [span] = plan.opens
    assert span.started_at == T0
    assert span.started_at.tzinfo is UTC
    assert utc(datetime(2026, 11, 28, 12, 0)) == T0  # naive values from SQLite are UTC


def test_report_older_than_a_repeat_resumes_the_repeated_state() -> None:
    """Available@0, Available@30 (a repeat, no interval), then a late Charging@20."""
    open_span = Span("Available", None, at(0), None)
    plan = plan_status(
        open_span, None, status="Charging", error_code=None, at=at(20), last_report_at=at(30)
    )
    assert plan == IntervalPlan(
        close_previous_at=at(20),
        opens=(Span("Charging", None, at(20), at(30)), Span("Available", None, at(30), None)),
        is_current=False,
    )


def test_report_older_than_the_last_one_is_never_current() -> None:
    open_span = Span("Available", None, at(0), None)
    plan = plan_status(
        open_span, None, status="Available", error_code=None, at=at(20), last_report_at=at(30)
    )
    # A late repeat is history being filled in: it keeps its boundary and is not current.
    assert plan == IntervalPlan(
        close_previous_at=at(20), opens=(Span("Available", None, at(20), None),)
    )


class History:
    """An in-memory history the planner drives the way the service drives the database."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.last_report_at: datetime | None = None

    def report(self, status: str, when: datetime) -> bool:
        starting = [s for s in self.spans if s.started_at <= when]
        previous = max(starting, key=lambda s: s.started_at) if starting else None
        later = [s for s in self.spans if s.started_at > when]
        following = min(later, key=lambda s: s.started_at) if later else None
        plan = plan_status(
            previous,
            following,
            status=status,
            error_code=None,
            at=when,
            last_report_at=self.last_report_at,
        )
        if plan.close_previous_at is not None and previous is not None:
            self.spans[self.spans.index(previous)] = replace(
                previous, ended_at=plan.close_previous_at
            )
        self.spans.extend(plan.opens)
        self.spans.sort(key=lambda s: s.started_at)
        if plan.is_current:
            self.last_report_at = when
        return plan.is_current


def _expected(reports: list[tuple[datetime, str]]) -> list[Span]:
    spans: list[Span] = []
    for when, status in sorted(reports):
        if spans and spans[-1].status == status:
            continue
        if spans:
            spans[-1] = replace(spans[-1], ended_at=when)
        spans.append(Span(status, None, when, None))
    return spans


def _reports(rng: random.Random, *, repeats: bool) -> list[tuple[datetime, str]]:
    minutes = sorted(rng.sample(range(0, 500), rng.randint(1, 12)))
    states: list[str] = []
    for _ in minutes:
        choices = ["Available", "Occupied", "Faulted"]
        if not repeats and states:
            choices.remove(states[-1])
        states.append(rng.choice(choices))
    return list(zip((at(m) for m in minutes), states, strict=True))


def _merged(spans: list[Span]) -> list[Span]:
    """The history with adjacent intervals of the same state joined (what a reader sees)."""
    joined: list[Span] = []
    for span in spans:
        if joined and joined[-1].status == span.status:
            joined[-1] = replace(joined[-1], ended_at=span.ended_at)
        else:
            joined.append(span)
    return joined


def _check_shape(history: History, reports: list[tuple[datetime, str]]) -> None:
    spans = history.spans
    newest_time, newest_state = max(reports)
    assert spans[-1].ended_at is None and spans[-1].status == newest_state
    assert spans[0].started_at == min(reports)[0]
    for span, successor in itertools.pairwise(spans):
        assert span.ended_at == successor.started_at  # contiguous, never overlapping
    assert history.last_report_at == newest_time


@pytest.mark.parametrize("repeats", [False, True], ids=["alternating", "with-repeats"])
@pytest.mark.parametrize("seed", range(250))
def test_any_arrival_order_keeps_a_well_formed_history(seed: int, repeats: bool) -> None:
    """Shape and current state hold for every arrival order; the history is exact unless an
    in-order repeat (which by design leaves no interval) hid a boundary a late report needed."""
    rng = random.Random(seed * 2 + repeats)
    reports = _reports(rng, repeats=repeats)
    arrival = reports[:]
    rng.shuffle(arrival)

    history = History()
    lossless = True
    for when, status in arrival:
        newest = history.last_report_at
        in_order = newest is None or when > newest
        if in_order and history.spans and history.spans[-1].status == status:
            lossless = False
        # Current exactly when nothing newer is known yet.
        assert history.report(status, when) == in_order

    _check_shape(history, reports)
    if lossless:
        assert _merged(history.spans) == _expected(reports)


def test_the_lossless_property_is_exercised() -> None:
    exercised = 0
    for seed in range(250):
        rng = random.Random(seed * 2)
        reports = _reports(rng, repeats=False)
        arrival = reports[:]
        rng.shuffle(arrival)
        history = History()
        lossless = True
        for when, status in arrival:
            newest = history.last_report_at
            if (newest is None or when > newest) and history.spans:
                lossless &= history.spans[-1].status != status
            history.report(status, when)
        exercised += lossless and len(reports) > 3
    assert exercised > 50
