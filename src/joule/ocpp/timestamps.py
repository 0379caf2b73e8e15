"""Tolerant parsing of OCPP timestamps into timezone-aware UTC datetimes.

C16 §3.14/§3.15 and P2 (DateTime) ask for ISO 8601 with UTC strongly recommended; receivers must
handle fractional seconds and offsets. Real chargers also send local time without any offset
(Q7) and 1970 dates before their clock is set (Q8); both are accepted here and flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Before this year a station's clock has not been set (Q8: 1970-01-01 after power-up);
# OCPP 1.5, the first JSON-capable ancestor, dates from 2012, so nothing real is older.
PLAUSIBLE_FROM_YEAR = 2010

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
    r"(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,  # \d must not match other scripts' digits
)


@dataclass(frozen=True, slots=True)
class ParsedTime:
    """A timestamp read from a station: the instant in UTC and how trustworthy it looks."""

    at: datetime  # timezone-aware, UTC
    had_offset: bool  # False when the station sent local time without an offset (Q7)
    implausible: bool  # True before PLAUSIBLE_FROM_YEAR (Q8): order by receive time instead


@cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _canonical_utc(value: str) -> datetime | None:
    """`YYYY-MM-DDTHH:MM:SS[.f…]Z`, what nearly every station sends, read by the C parser.

    The regex path below costs ~9 µs per timestamp and runs for every meter reading and both
    validation passes (T9); `datetime.fromisoformat` reads this one shape in ~0.2 µs. Anything
    else (offsets, no offset, lower-case letters, more than 6 fraction digits, non-ASCII) is left
    to the regex path, so both give the same answer (tests/ocpp/test_timestamps.py property).
    """
    if (
        not 20 <= len(value) <= 27
        or value[-1] != "Z"
        or value[10] != "T"
        or value[19] not in ".Z"
        or not value.isascii()
    ):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_timestamp(value: str, assume_tz: str | None = None) -> ParsedTime:
    """Parse an OCPP timestamp; without an offset it is read in `assume_tz` (IANA) or UTC."""
    if isinstance(value, str):
        fast = _canonical_utc(value)
        if fast is not None:
            return ParsedTime(at=fast, had_offset=True, implausible=fast.year < PLAUSIBLE_FROM_YEAR)
    return parse_general(value, assume_tz)


def parse_general(value: str, assume_tz: str | None = None) -> ParsedTime:
    """parse_timestamp for every accepted shape (the regex path, without the fast path)."""
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {str(value)[:64]!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    # Any number of fraction digits is allowed (C16 §3.14); keep microseconds, truncating
    # rather than rounding so that .9999999 never carries into the next second.
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    zone: tzinfo
    if zulu:
        zone, had_offset = UTC, True
    elif sign:
        minutes = int(off_h) * 60 + int(off_m or "0")
        if int(off_m or "0") >= 60 or minutes >= 24 * 60:
            raise ValueError(f"offset out of range: {value[:64]!r}")
        zone = timezone(timedelta(minutes=-minutes if sign == "-" else minutes))
        had_offset = True
    else:
        zone, had_offset = (_zone(assume_tz) if assume_tz else UTC), False
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, zone
        )
        at = local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date-time: {value[:64]!r}") from exc
    return ParsedTime(at=at, had_offset=had_offset, implausible=at.year < PLAUSIBLE_FROM_YEAR)


def is_timestamp(value: object) -> bool:
    """True when `value` is a string parse_timestamp accepts (the schemas' date-time format)."""
    if not isinstance(value, str):
        return False
    if _canonical_utc(value) is not None:
        return True
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True
