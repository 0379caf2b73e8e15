"""Which time to believe for a station-reported event (Q7, Q8, C16 §3.14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joule.domain.station.intervals import utc
from joule.ocpp.timestamps import ParsedTime, parse_timestamp


@dataclass(frozen=True, slots=True)
class EventTime:
    """The time used for an event, and the parsed station timestamp when there was a usable one."""

    at: datetime  # aware UTC
    parsed: ParsedTime | None  # None: absent, unreadable or implausible → received_at was used


def event_time(value: str | None, *, assume_tz: str | None, received_at: datetime) -> EventTime:
    """The station's timestamp when present and plausible, else the CSMS receive time (Q8)."""
    if value:
        try:
            parsed = parse_timestamp(value, assume_tz)
        except ValueError:
            parsed = None
        if parsed is not None and not parsed.implausible:
            return EventTime(at=utc(parsed.at), parsed=parsed)
    return EventTime(at=utc(received_at), parsed=None)
