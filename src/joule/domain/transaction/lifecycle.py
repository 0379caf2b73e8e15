"""Transaction lifecycle rules: seqNo completeness, session energy, dedupe keys (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

ACTIVE = "active"
COMPLETED = "completed"
DEFAULT_STOP_REASON = "Local"  # C16 §7.44 / P2 ReasonEnumType: absent reason means Local

_MISSING_MAX_CHARS = 255  # Transaction.missing_seq_nos column width


def as_utc(at: datetime) -> datetime:
    """The same instant as an aware UTC datetime (SQLite returns naive UTC values)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# --- E §1.3.2: complete when Started (a), Ended (o > a) and every n between have arrived.


@dataclass(frozen=True, slots=True)
class SeqNoState:
    """The seqNos seen for one transaction, and which ones were Started and Ended."""

    seen: tuple[int, ...] = ()
    started: int | None = None
    ended: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SeqNoState:
        """Read the state kept in Transaction.seq_nos."""
        data = data or {}
        return cls(
            seen=tuple(sorted({int(n) for n in data.get("seen", ())})),
            started=data.get("started"),
            ended=data.get("ended"),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form kept in Transaction.seq_nos."""
        return {"seen": list(self.seen), "started": self.started, "ended": self.ended}

    def with_event(self, seq_no: int, event_type: str) -> SeqNoState:
        """The state after one more TransactionEvent."""
        seen = self.seen if seq_no in self.seen else tuple(sorted((*self.seen, seq_no)))
        started = seq_no if event_type == "Started" and self.started is None else self.started
        ended = seq_no if event_type == "Ended" and self.ended is None else self.ended
        return SeqNoState(seen, started, ended)

    @property
    def complete(self) -> bool:
        """True when Started, Ended and every seqNo between them have arrived (E §1.3.2)."""
        return self.started is not None and self.ended is not None and not self.gaps

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """The runs of seqNos known to be missing so far, as inclusive (first, last) pairs."""
        return missing_ranges(self.seen, self.started, self.ended)

    @property
    def missing(self) -> list[int]:
        """The seqNos known to be missing so far (at most _MISSING_LIST_MAX of them)."""
        return missing_seq_nos(self.seen, self.started, self.ended)


_MISSING_LIST_MAX = 10_000


def missing_ranges(
    seen: Iterable[int], started: int | None, ended: int | None
) -> list[tuple[int, int]]:
    """Runs of seqNos between Started (or the lowest seen) and Ended (or the highest seen)."""
    got = sorted(set(seen))
    if not got and started is None:
        return []
    low = started if started is not None else got[0]
    high = ended if ended is not None else max(got[-1] if got else low, low)
    # Stations SHOULD restart seqNo at 0 per transaction but MAY count continuously (§1.3.2.1):
    # the bounds come from this transaction's own events, never from 0. Work on the seen values
    # only, so a station jumping from 0 to 10^9 costs nothing.
    gaps: list[tuple[int, int]] = []
    expected = low
    for n in got:
        if n < low:
            continue
        if n > high:
            break
        if n > expected:
            gaps.append((expected, n - 1))
        expected = n + 1
    if expected <= high:
        gaps.append((expected, high))
    return gaps


def missing_seq_nos(seen: Iterable[int], started: int | None, ended: int | None) -> list[int]:
    """seqNos between Started (or the lowest seen) and Ended (or the highest seen) not yet seen."""
    missing: list[int] = []
    for first, last in missing_ranges(seen, started, ended):
        missing.extend(range(first, min(last + 1, first + _MISSING_LIST_MAX - len(missing))))
        if len(missing) >= _MISSING_LIST_MAX:
            break
    return missing


def format_missing(gaps: list[tuple[int, int]]) -> str | None:
    """'1,2' style text for Transaction.missing_seq_nos; runs of 3+ become 'a-b'; None if none."""
    if not gaps:
        return None
    parts: list[str] = []
    for first, last in gaps:
        if last - first >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(str(n) for n in range(first, last + 1))
    text = ",".join(parts)
    if len(text) > _MISSING_MAX_CHARS:
        text = text[: _MISSING_MAX_CHARS - 2].rsplit(",", 1)[0] + ",+"
    return text


# --- Energy: Wh as Decimal, never negative.


class MeterTotals(Protocol):
    """The transaction fields energy is computed from (a Transaction row fits)."""

    @property
    def status(self) -> str: ...
    @property
    def meter_start_wh(self) -> Decimal | None: ...
    @property
    def meter_stop_wh(self) -> Decimal | None: ...
    @property
    def last_meter_wh(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Energy:
    """Energy of a session and whether the meter went backwards (a reset: flagged, not guessed)."""

    wh: Decimal | None
    meter_reset: bool = False


def session_energy(
    start_wh: Decimal | None, end_wh: Decimal | None, highest_wh: Decimal | None
) -> Energy:
    """end − start; when the register went backwards keep what is known (highest − start)."""
    if start_wh is None or end_wh is None:
        return Energy(None)
    if end_wh >= start_wh:
        return Energy(end_wh - start_wh)
    # The register fell below its start: a meter reset or exchange. What is known for sure is
    # what was counted before it; never a negative amount.
    known = (
        highest_wh - start_wh if highest_wh is not None and highest_wh > start_wh else Decimal(0)
    )
    return Energy(known, meter_reset=True)


def energy_wh(tx: MeterTotals) -> Decimal | None:
    """Live energy while active (latest register − start), final (stop − start) when completed."""
    end = tx.last_meter_wh
    if tx.status == COMPLETED and tx.meter_stop_wh is not None:
        end = tx.meter_stop_wh
    return session_energy(tx.meter_start_wh, end, tx.last_meter_wh).wh


# --- Dedupe keys.


@dataclass(frozen=True, slots=True)
class StartKey:
    """1.6: a retried StartTransaction repeats all of these (scenario 2, C16 §3.7.1)."""

    station_id: str
    evse_id: int
    id_token: str
    started_at: datetime
    meter_start_wh: Decimal | None


@dataclass(frozen=True, slots=True)
class EventKey:
    """2.x: a retried TransactionEvent repeats these; its messageId is new (P4 §4.1.4)."""

    transaction_pk: int
    seq_no: int
    event_type: str
    timestamp: datetime


def start_key(
    station_id: str,
    evse_id: int,
    id_token: str,
    started_at: datetime,
    meter_start_wh: Decimal | None,
) -> StartKey:
    """The identity of a 1.6 StartTransaction."""
    return StartKey(station_id, evse_id, id_token, as_utc(started_at), meter_start_wh)


def event_key(transaction_pk: int, seq_no: int, event_type: str, timestamp: datetime) -> EventKey:
    """The identity of a 2.x TransactionEvent; the transaction in it keeps seqNo 0s apart."""
    return EventKey(transaction_pk, seq_no, event_type, as_utc(timestamp))
