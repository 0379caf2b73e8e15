"""The cheaper SQLite DATETIME bind processor stores exactly what SQLAlchemy's own stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, Integer, Numeric
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from joule.storage.binds import bind_processor

SQLITE = sqlite.dialect()
OURS = bind_processor(DateTime(timezone=True), SQLITE)
THEIRS = DateTime(timezone=True).dialect_impl(SQLITE).bind_processor(SQLITE)
ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)


@given(st.datetimes(timezones=ZONES))
def test_same_text_as_sqlalchemy_for_any_datetime(value: datetime) -> None:
    assert OURS is not None and THEIRS is not None
    assert OURS(value) == THEIRS(value)


def test_edges_and_other_values_take_sqlalchemys_path() -> None:
    assert OURS is not None and THEIRS is not None
    for value in (
        datetime(1, 1, 1),
        datetime(999, 12, 31, 23, 59, 59, 999_999),
        datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        date(2026, 11, 29),
        None,
    ):
        assert OURS(value) == THEIRS(value), value
    assert OURS(datetime(2026, 11, 29, 8, 0, 0, 5)) == "2026-11-29 08:00:00.000005"


def test_only_the_default_sqlite_format_is_replaced() -> None:
    custom = DATETIME(storage_format="%(year)04d/%(month)02d/%(day)02d")  # type: ignore[no-untyped-call]
    process = bind_processor(custom, SQLITE)
    assert process is not None and process(datetime(2026, 11, 29)) == "2026/11/29"
    assert bind_processor(Integer(), SQLITE) is None
    numeric = bind_processor(Numeric(24, 6), SQLITE)
    expected = Numeric(24, 6).dialect_impl(SQLITE).bind_processor(SQLITE)
    assert type(numeric) is type(expected)
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]
    assert bind_processor(DateTime(timezone=True), pg) is None  # the driver binds datetimes
