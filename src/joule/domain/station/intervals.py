"""Status history as non-overlapping intervals: where a reported status goes (pure rules)."""

from __future__ import annotations

from dataclasses import dataclass
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
    open: Span | None = None  # a new interval to insert
    move_following_start_to: datetime | None = None  # extend the next interval back (merge)
    is_current: bool = False  # the reported status is the latest known one


def plan_status(
    previous: Span | None,
    following: Span | None,
    *,
    status: str,
    error_code: str | None,
    at: datetime,
) -> IntervalPlan:
    """Plan the history change for a status reported at `at`.

    `previous` is the latest interval starting at or before `at`, `following` the first one
    starting after it (only present when the report arrived out of order). A repeated state
    adds nothing; a state equal to the following interval's merges into it, so the history never
    holds two adjacent intervals with the same state.
    """
    at = utc(at)
    is_current = following is None
    if previous is not None and previous.same_state(status, error_code):
        return IntervalPlan(is_current=is_current)
    # Only cut the previous interval where it actually extends past `at` (a gap stays a gap).
    close_at = None
    if previous is not None and (previous.ended_at is None or utc(previous.ended_at) > at):
        close_at = at
    if following is not None and following.same_state(status, error_code):
        return IntervalPlan(close_previous_at=close_at, move_following_start_to=at)
    ends = utc(following.started_at) if following is not None else None
    return IntervalPlan(
        close_previous_at=close_at,
        open=Span(status=status, error_code=error_code, started_at=at, ended_at=ends),
        is_current=is_current,
    )
