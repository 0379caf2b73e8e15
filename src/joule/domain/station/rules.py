"""Pure rules of the station capability: boot answers and clock skew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joule.domain.station.intervals import utc

# Beyond this the "skew" is a broken clock or a queued message, not a drift worth storing.
MAX_CLOCK_SKEW_S = 10 * 365 * 24 * 3600.0
# Network latency jitters by fractions of a second: only rewrite the stored skew on a real change.
SKEW_HYSTERESIS_S = 1.0


@dataclass(frozen=True, slots=True)
class BootIntervals:
    """Intervals handed out in BootNotification answers."""

    heartbeat_s: int = 300  # Accepted: the heartbeat interval
    pending_s: int = 30  # Pending/Rejected: the minimum wait before the next BootNotification


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """Status and interval of a BootNotification response."""

    status: str  # Accepted | Pending | Rejected
    interval: int


def boot_answer(registration: str, intervals: BootIntervals) -> BootAnswer:
    """Answer a boot by the station's registration (B01 accepted, B02 pending, B03 rejected)."""
    if registration == "accepted":
        return BootAnswer(status="Accepted", interval=intervals.heartbeat_s)
    if registration == "rejected":
        # B03: the interval is the minimum time before the station may boot again.
        return BootAnswer(status="Rejected", interval=intervals.pending_s)
    # Unknown values fall back to Pending: an operator decides (B02), nothing is let in by mistake.
    return BootAnswer(status="Pending", interval=intervals.pending_s)


def clock_skew(station_time: datetime, received_at: datetime) -> float | None:
    """Station clock minus CSMS clock in seconds (ms precision), None when implausibly large."""
    skew = (utc(station_time) - utc(received_at)).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW_S:
        return None
    return round(skew, 3)


def skew_changed(stored: float | None, skew: float) -> bool:
    """True when the new skew differs enough from the stored one to be worth a write."""
    return stored is None or abs(float(stored) - skew) >= SKEW_HYSTERESIS_S
