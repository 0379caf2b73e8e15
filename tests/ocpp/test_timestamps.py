"""Tolerant timestamp parsing (C16 §3.14/§3.15, Q7 local time, Q8 clocks before sync)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joule.kit.clock import utc_iso
from joule.ocpp.timestamps import ParsedTime, is_timestamp, parse_general, parse_timestamp


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T12:00:00Z", utc(2025, 3, 1, 12)),
        ("2025-03-01t12:00:00z", utc(2025, 3, 1, 12)),
        ("2025-03-01T12:00:00.5Z", utc(2025, 3, 1, 12, 0, 0, 500000)),
        ("2025-03-01T12:00:00.123Z", utc(2025, 3, 1, 12, 0, 0, 123000)),
        ("2025-03-01T12:00:00,123Z", utc(2025, 3, 1, 12, 0, 0, 123000)),
        # fractions of any length are truncated to microseconds, never carried into a second
        ("2025-03-01T12:00:00.123456789Z", utc(2025, 3, 1, 12, 0, 0, 123456)),
        ("2025-03-01T12:00:59.9999999Z", utc(2025, 3, 1, 12, 0, 59, 999999)),
        ("2025-03-01T13:30:00+01:30", utc(2025, 3, 1, 12)),
        ("2025-03-01T13:30:00+0130", utc(2025, 3, 1, 12)),
        ("2025-03-01T13:00:00+01", utc(2025, 3, 1, 12)),
        ("2025-03-01T07:00:00-05:00", utc(2025, 3, 1, 12)),
        ("2025-03-01T00:30:00+01:00", utc(2025, 2, 28, 23, 30)),
    ],
)
def test_offsets_and_fractions(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == ParsedTime(at=expected, had_offset=True, implausible=False)
    assert parsed.at.tzinfo is UTC


def test_no_offset_is_utc_by_default() -> None:
    assert parse_timestamp("2025-03-01T12:00:00") == ParsedTime(
        at=utc(2025, 3, 1, 12), had_offset=False, implausible=False
    )


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2025-01-15T12:00:00", "Europe/Berlin", utc(2025, 1, 15, 11)),  # CET
        ("2025-07-15T12:00:00", "Europe/Berlin", utc(2025, 7, 15, 10)),  # CEST
        ("2025-07-15T12:00:00.250", "America/New_York", utc(2025, 7, 15, 16, 0, 0, 250000)),
        # an explicit offset wins over the assumed zone
        ("2025-07-15T12:00:00Z", "Europe/Berlin", utc(2025, 7, 15, 12)),
    ],
)
def test_no_offset_is_read_in_the_station_zone(text: str, zone: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, assume_tz=zone)
    assert parsed.at == expected
    assert parsed.had_offset == text.endswith("Z")


def test_unknown_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("2025-03-01T12:00:00", assume_tz="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    "text", ["1970-01-01T00:00:00Z", "1970-01-01T00:00:12.345Z", "2009-12-31T23:59:59Z"]
)
def test_clock_not_set_is_implausible(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed.implausible


def test_2010_is_plausible() -> None:
    assert not parse_timestamp("2010-01-01T00:00:00Z").implausible
    # Plausibility is judged in UTC: this is still 2009 there.
    assert parse_timestamp("2010-01-01T00:30:00+01:00").implausible


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-03-01",
        "2025-03-01 12:00:00Z",
        "2025-03-01T12:00Z",
        "2025-03-01T12:00:00ZZ",
        "2025-13-01T12:00:00Z",
        "2025-02-29T12:00:00Z",
        "2025-03-01T24:00:00Z",
        "2025-03-01T12:60:00Z",
        "2025-03-01T12:00:00+25:00",
        "2025-03-01T12:00:00+01:75",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "２０２５-03-01T12:00:00Z",
        " 2025-03-01T12:00:00Z",
    ],
)
def test_invalid_values_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)
    assert not is_timestamp(text)


def test_is_timestamp() -> None:
    assert is_timestamp("2024-02-29T12:00:00.1+05:30")
    assert not is_timestamp(1700000000)
    assert not is_timestamp(None)


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def _near_canonical(draw: st.DrawFn) -> str:
    """Strings shaped like (and just off) the canonical UTC form: out-of-range fields,
    0–9 fraction digits, ',' for '.', lower-case letters, offsets, other digits."""

    def num(width: int) -> str:
        return "".join(draw(_DIGITS) for _ in range(width))

    date = f"{num(4)}-{draw(st.sampled_from(['01', '02', '12', '13', '00', num(2)]))}-"
    date += draw(st.sampled_from(["01", "28", "29", "30", "31", "32", num(2)]))
    time = f"{draw(st.sampled_from(['00', '23', '24', num(2)]))}:{num(2)}:"
    time += draw(st.sampled_from(["00", "59", "60", num(2)]))
    fraction = (
        draw(st.sampled_from(["", ".", ","])) + num(draw(st.integers(0, 9)))
        if draw(st.booleans())
        else ""
    )
    zone = draw(st.sampled_from(["Z", "z", "", "+00:00", "+0130", "-05:00", "Z "]))
    text = date + draw(st.sampled_from(["T", "t", " "])) + time + fraction + zone
    return draw(st.sampled_from([text, text.replace("1", "١")]))  # Arabic-Indic digit


@given(_near_canonical())
@settings(max_examples=2000, deadline=None)
def test_fast_path_agrees_with_the_general_parser(text: str) -> None:
    """The fromisoformat fast path accepts and reads exactly what the regex path does."""
    try:
        expected: ParsedTime | None = parse_general(text)
    except ValueError:
        expected = None
    try:
        got: ParsedTime | None = parse_timestamp(text)
    except ValueError:
        got = None
    assert got == expected
    assert is_timestamp(text) is (expected is not None)


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC), "2026-11-28T14:00:00.000Z"),
        # another offset is converted; microseconds are truncated to milliseconds, not rounded
        (
            datetime(2026, 1, 1, 1, 4, 5, 999999, tzinfo=timezone(timedelta(hours=2))),
            "2025-12-31T23:04:05.999Z",
        ),
    ],
)
def test_utc_iso_is_what_ocpp_recommends(at: datetime, text: str) -> None:
    """C16 §3.14: UTC with a Z and milliseconds; Joule reads back what it writes."""
    assert utc_iso(at) == text
    assert parse_timestamp(text).at == at.replace(microsecond=at.microsecond // 1000 * 1000)
