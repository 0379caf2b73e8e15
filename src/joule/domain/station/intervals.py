"""Status history as non-overlapping intervals: where a reported status goes (pure rules)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime


def utc(at: datetime) -> datetime:
    """The same instant as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Span:
    """One stored interval of a connector's (or the station's) status history."""

    status: str
    error_code: str | None
    started_at: datetime
    ended_at: datetime | None  # None = still open (the current status)

    def same_state(self, status: str, error_code: str | None) -> bool:
        """True when this interval already says `status` with `error_code`."""
        return self.status == status and self.error_code == error_code


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    """What to change in the history so that a status reported at `at` fits in."""

    close_previous_at: datetime | None = None  # set the previous interval's end
    opens: tuple[Span, ...] = ()  # new intervals to insert
    is_current: bool = False  # the reported status is the latest known one


def plan_status(
    previous: Span | None,
    following: Span | None,
    *,
    status: str,
    error_code: str | None,
    at: datetime,
    last_report_at: datetime | None = None,
) -> IntervalPlan:
    """Plan the history change for a status reported at `at`.

    `previous` is the latest interval starting at or before `at`, `following` the first one
    starting after it, `last_report_at` the time of the newest report applied so far (an
    in-order repeat of a state leaves no interval, so only this tells a late report from a
    new one). An in-order repeat changes nothing. A late report is history being filled in: it
    always gets its own boundary, ending where the next interval begins, so that reports still
    to come land in the right place whatever order they arrive in.
    """
    at = utc(at)
    newest = last_report_at is None or at >= utc(last_report_at)
    late = following is not None or not newest
    if previous is not None and previous.same_state(status, error_code):
        if not late or utc(previous.started_at) == at:
            return IntervalPlan(is_current=not late)
        # A late repeat splits its interval: same state on both sides, but the boundary is kept.
        ends = utc(previous.ended_at) if previous.ended_at is not None else None
        return IntervalPlan(
            close_previous_at=at, opens=(replace(previous, started_at=at, ended_at=ends),)
        )
    # Only cut the previous interval where it actually extends past `at` (a gap stays a gap).
    close_at = None
    if previous is not None and (previous.ended_at is None or utc(previous.ended_at) > at):
        close_at = at
    if following is None and not newest and previous is not None and previous.ended_at is None:
        # Older than an in-order repeat of the open state: that state was reported again at
        # last_report_at, so it resumes there and stays current.
        assert last_report_at is not None
        resumed = utc(last_report_at)
        return IntervalPlan(
            close_previous_at=close_at,
            opens=(
                Span(status=status, error_code=error_code, started_at=at, ended_at=resumed),
                replace(previous, started_at=resumed, ended_at=None),
            ),
        )
    ends = utc(following.started_at) if following is not None else None
    return IntervalPlan(
        close_previous_at=close_at,
        opens=(Span(status=status, error_code=error_code, started_at=at, ended_at=ends),),
        is_current=not late,
    )
