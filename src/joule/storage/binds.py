"""Bind processors for the hot statements, as SQLAlchemy's own but cheaper where it matters.

SQLite has no datetime type: SQLAlchemy's DATETIME stores text built by a `%`-format over a
dict of seven fields, ~3.3 µs a value on the development box, and a MeterValues binds three or
four of them (its row, the transaction's register UPDATE, last seen). The same text from a
positional tuple costs ~2 µs. Every other type, and any DATETIME with its own storage format,
keeps SQLAlchemy's processor, so what is stored never changes (tests/storage/test_binds.py
compares both on generated datetimes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.sqlite.base import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]

# SQLAlchemy's default SQLite storage format, and the same text from a tuple.
_SQLITE_DEFAULT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)
_SQLITE_TUPLE = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    """The bind processor of `type_` on `dialect`: SQLAlchemy's, or the same result cheaper."""
    impl = type_.dialect_impl(dialect)
    process = impl.bind_processor(dialect)
    if (
        process is not None
        and type(impl) is SQLITE_DATETIME
        and impl._storage_format == _SQLITE_DEFAULT
    ):
        return _sqlite_datetime(process)
    return process


def _sqlite_datetime(fallback: Processor) -> Processor:
    def process(value: Any) -> Any:
        # Exactly a datetime: the tzinfo is ignored, as SQLAlchemy's format ignores it (Joule
        # binds UTC). None, dates and subclasses take SQLAlchemy's own path.
        if type(value) is datetime:
            return _SQLITE_TUPLE % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )
        return fallback(value)

    return process
