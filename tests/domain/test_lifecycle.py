"""transaction.lifecycle: seqNo completeness, energy, dedupe keys (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from joule.domain.transaction.lifecycle import (
    SeqNoState,
    as_utc,
    energy_wh,
    event_key,
    format_missing,
    missing_ranges,
    missing_seq_nos,
    session_energy,
    start_key,
)


@pytest.mark.parametrize(
    ("seen", "started", "ended", "missing"),
    [
        ([], None, None, []),
        ([0], 0, None, []),
        ([0, 1, 2, 3], 0, 3, []),
        ([0, 3], 0, 3, [1, 2]),  # scenario 8 before seqNo 2 arrives
        ([0, 2, 3], 0, 3, [1]),  # … and after
        ([0, 1, 2, 3], 0, 3, []),  # … and when 1 finally comes
        ([0, 4], 0, None, [1, 2, 3]),  # gaps are known before Ended
        ([57, 58, 60], 57, 60, [59]),  # continuous seqNos (§1.3.2.1)
        ([3, 5], None, 5, [4]),  # Started not seen yet: from the lowest seen
        ([0, 1, 5], 0, 5, [2, 3, 4]),  # Ended known, the ones before it missing
    ],
)
def test_missing_seq_nos(
    seen: list[int], started: int | None, ended: int | None, missing: list[int]
) -> None:
    assert missing_seq_nos(seen, started, ended) == missing


def test_seq_no_state_round_trip_and_completeness() -> None:
    state = SeqNoState()
    for seq_no, kind in [(0, "Started"), (3, "Ended"), (2, "Updated")]:
        state = state.with_event(seq_no, kind)
    assert state.to_json() == {"seen": [0, 2, 3], "started": 0, "ended": 3}
    assert state.missing == [1]
    assert not state.complete
    state = SeqNoState.from_json(state.to_json()).with_event(1, "Updated")
    assert state.missing == []
    assert state.complete


def test_seq_no_state_ignores_repeats_and_empty_json() -> None:
    state = SeqNoState.from_json({}).with_event(0, "Started").with_event(0, "Started")
    assert state.seen == (0,)
    assert SeqNoState.from_json(None) == SeqNoState()


@pytest.mark.parametrize(
    ("seen", "text"),
    [
        ([0, 1, 2], None),
        ([0, 2], "1"),
        ([0, 3], "1,2"),
        ([0, 4], "1-3"),
        ([0, 4, 6, 8, 11], "1-3,5,7,9,10"),
    ],
)
def test_format_missing(seen: list[int], text: str | None) -> None:
    state = SeqNoState(tuple(seen), started=0, ended=seen[-1])
    assert format_missing(state.gaps) == text


def test_format_missing_fits_the_column() -> None:
    state = SeqNoState(tuple(range(0, 2000, 2)), started=0, ended=1998)
    text = format_missing(state.gaps)
    assert text is not None
    assert len(text) <= 255
    assert text.endswith(",+")


def test_a_huge_seq_no_jump_costs_nothing() -> None:
    """A station jumping from 0 to 10^9 must not make the writer list a billion numbers."""
    state = SeqNoState((0, 10**9), started=0, ended=10**9)
    assert state.gaps == [(1, 10**9 - 1)]
    assert format_missing(state.gaps) == f"1-{10**9 - 1}"
    assert len(state.missing) == 10_000
    assert state.missing[-1] == 10_000
    assert missing_ranges([5, 1, 3], None, None) == [(2, 2), (4, 4)]


@pytest.mark.parametrize(
    ("start", "end", "highest", "wh", "reset"),
    [
        ("1000", "13500", "13500", "12500", False),
        ("1000", "1000", "1000", "0", False),
        (None, "5", "5", None, False),
        ("1000", None, None, None, False),
        ("1000", "20", "9000", "8000", True),  # meter reset: keep what was counted before it
        ("1000", "20", None, "0", True),  # nothing known: never negative
        ("0.5", "1.25", "1.25", "0.75", False),  # Decimal exact
    ],
)
def test_session_energy(
    start: str | None, end: str | None, highest: str | None, wh: str | None, reset: bool
) -> None:
    def dec(text: str | None) -> Decimal | None:
        return Decimal(text) if text is not None else None

    energy = session_energy(dec(start), dec(end), dec(highest))
    assert energy.wh == dec(wh)
    assert energy.meter_reset is reset


@dataclass
class Tx:
    status: str
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    last_meter_wh: Decimal | None


def test_energy_live_while_active_and_final_when_completed() -> None:
    assert energy_wh(Tx("active", Decimal(1000), None, Decimal(4200))) == Decimal(3200)
    assert energy_wh(Tx("active", Decimal(1000), None, None)) is None
    assert energy_wh(Tx("completed", Decimal(1000), Decimal(9000), Decimal(8000))) == 8000
    # Completed without a stop reading (2.x Ended without meter values): the last register.
    assert energy_wh(Tx("completed", Decimal(1000), None, Decimal(7000))) == Decimal(6000)


def test_dedupe_keys_normalise_time_and_include_the_transaction() -> None:
    local = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    utc = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert event_key(7, 0, "Started", local) == event_key(7, 0, "Started", utc)
    assert event_key(7, 0, "Started", utc) != event_key(8, 0, "Started", utc)  # scenario 9
    assert start_key("CP1", 1, "TAG", local, Decimal(5)).started_at == utc


def test_as_utc() -> None:
    naive = datetime(2026, 1, 1, 8, 0)
    assert as_utc(naive) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert as_utc(naive).tzinfo is UTC
