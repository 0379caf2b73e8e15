"""Formatting for templates: UTC times (SQLite hands back naive ones), energy, JSON frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def utc(at: datetime) -> datetime:
    """The same instant as an aware UTC datetime (stored times are UTC; SQLite drops the zone)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def when(at: datetime | None) -> str:
    """An ISO-8601 UTC timestamp to the second, or an em dash."""
    if at is None:
        return "—"
    return utc(at).strftime("%Y-%m-%d %H:%M:%SZ")


def kwh(wh: Decimal | None) -> str:
    """Watt-hours shown as kWh with three decimals (Decimal all the way)."""
    if wh is None:
        return "—"
    return f"{(Decimal(wh) / 1000).quantize(Decimal('0.001'), rounding=ROUND_HALF_UP)} kWh"


def kw(w: Decimal | None) -> str:
    """Watts shown as kW with one decimal."""
    if w is None:
        return "—"
    return f"{(Decimal(w) / 1000).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} kW"


def percent(value: Decimal | None) -> str:
    """A percentage as shown (two decimals), or an em dash when there is nothing to measure."""
    return "—" if value is None else f"{value:.2f} %"


def pretty(frame: str) -> str:
    """A logged frame, indented when it is JSON (it may be truncated, then shown as is)."""
    try:
        return json.dumps(json.loads(frame), indent=1, ensure_ascii=False)
    except ValueError:
        return frame


def jsonable(value: Any) -> Any:
    """Event fields as JSON values: datetimes ISO-8601 UTC, Decimals as strings."""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
