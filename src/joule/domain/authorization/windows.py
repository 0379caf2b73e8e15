"""Access rules' place and time: does a rule cover this station / EVSE, and this local moment?

Pure. A rule's days and HH:MM window are read in the site's time zone (issue 5: "which days and time
windows (in the site's time zone)"); a window whose end is not after its start runs past midnight
and belongs to the day it starts on (Fri 22:00–06:00 covers Saturday 03:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ISO_DAYS = range(1, 8)  # 1 = Monday … 7 = Sunday (ISO 8601)


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """One access rule of a group: where (NULL = any) and when (NULL = always)."""

    site_id: str | None = None
    station_id: str | None = None
    evse_id: int | None = None
    days: frozenset[int] | None = None  # ISO weekdays; None = every day
    start: time | None = None  # local time; None = from midnight
    end: time | None = None  # local time; None = until midnight
    valid_from: datetime | None = None  # UTC instants
    valid_until: datetime | None = None

    @property
    def timed(self) -> bool:
        """True when the rule restricts the time at all (days, hours or validity)."""
        return (
            self.days is not None
            or self.start is not None
            or self.end is not None
            or self.valid_from is not None
            or self.valid_until is not None
        )


@dataclass(frozen=True, slots=True)
class Place:
    """Where a token is presented: the station, its site and network, the EVSE if known."""

    station_id: str
    site_id: str | None = None
    evse_id: int | None = None  # None: not known yet (an Authorize before the EVSE is chosen)
    # The station's effective organisation and every ancestor (empty: the station has none).
    organisations: frozenset[str] = frozenset()


def parse_hhmm(value: str) -> time:
    """'HH:MM' (00:00–23:59, or 24:00 for the end of the day) → time; ValueError otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"time {value!r} is not HH:MM")
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0):
        return time.max
    if h > 23 or m > 59:
        raise ValueError(f"time {value!r} is not a time of day")
    return time(h, m)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone; an unknown or missing name falls back to UTC (sites validate theirs)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Joule stores is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def covers_place(rule: RuleFacts, place: Place, group_organisation: str | None) -> bool:
    """True when the rule's site / station / EVSE (each NULL = any) cover this place.

    A rule naming neither a site nor a station covers every station of the group's organisation
    (and its descendants); a group without an organisation is network-wide.
    """
    if rule.station_id is not None and rule.station_id != place.station_id:
        return False
    if rule.site_id is not None and rule.site_id != place.site_id:
        return False
    # An EVSE-scoped rule cannot be judged before the EVSE is known; the start re-checks it.
    if rule.evse_id is not None and place.evse_id is not None and rule.evse_id != place.evse_id:
        return False
    if rule.station_id is None and rule.site_id is None and group_organisation is not None:
        return group_organisation in place.organisations
    return True


def covers_time(rule: RuleFacts, now: datetime, tz: ZoneInfo) -> bool:
    """True when `now` lies within the rule's validity, days and daily window (local time)."""
    now = aware(now)
    if rule.valid_from is not None and now < aware(rule.valid_from):
        return False
    if rule.valid_until is not None and now >= aware(rule.valid_until):
        return False
    local = now.astimezone(tz)
    day, clock = local.isoweekday(), local.time().replace(tzinfo=None)
    start = rule.start or time.min
    end = rule.end or time.max
    days = rule.days if rule.days is not None else frozenset(ISO_DAYS)
    if start < end:
        return day in days and start <= clock and (clock < end or end == time.max)
    if start == end:
        # An empty or all-day window is read as all day: a zero-length window grants nothing useful.
        return day in days
    # Past midnight: the evening part on a listed day, the morning part on the day after one.
    yesterday = 7 if day == 1 else day - 1
    return (day in days and clock >= start) or (yesterday in days and clock < end)


def window_end(rule: RuleFacts, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the rule's current window (which covers `now`) closes; None = it never does.

    Sent as the cache expiry (1.6 expiryDate, 2.0.1 cacheExpiryDateTime) so a station's
    authorization cache does not admit the token past the window (C10, 1.6 §3.5.2).
    """
    now = aware(now)
    ends: list[datetime] = []
    if rule.valid_until is not None:
        ends.append(aware(rule.valid_until))
    if rule.days is not None or rule.start is not None or rule.end is not None:
        local = now.astimezone(tz)
        day = local.date()
        start = rule.start or time.min
        if rule.end is None or rule.end == time.max or rule.end == start:
            # Until the end of the (local) day: the next day is judged again.
            close_day, close_at = day + timedelta(days=1), time.min
        elif start < rule.end or local.time() < rule.end:
            close_day, close_at = day, rule.end
        else:  # the evening part of a window that runs past midnight
            close_day, close_at = day + timedelta(days=1), rule.end
        ends.append(datetime.combine(close_day, close_at, tzinfo=tz).astimezone(UTC))
    return min(ends) if ends else None
