"""Hand-written SVG charts (no chart library, nothing from a CDN): timelines, meter lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from markupsafe import Markup, escape

from joule.storage.models import SampledValue, StatusInterval
from joule.web.fmt import utc, when

WIDTH = 720
LANE = 22
LEFT = 90  # room for the lane labels
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"

# Status → CSS class; colours live in app.css so the legend and the live table agree.
STATUS_CLASS = {
    "Available": "ok",
    "Preparing": "busy",
    "Charging": "busy",
    "Occupied": "busy",
    "SuspendedEV": "busy",
    "SuspendedEVSE": "busy",
    "Finishing": "busy",
    "Reserved": "reserved",
    "Unavailable": "off",
    "Faulted": "fault",
}


def status_class(status: str | None) -> str:
    """The CSS class of a connector status (unknown statuses are neutral)."""
    return STATUS_CLASS.get(status or "", "unknown")


def _x(at: datetime, start: datetime, end: datetime, width: float) -> float:
    span = (end - start).total_seconds() or 1.0
    return max(0.0, min(width, (at - start).total_seconds() / span * width))


def status_timeline(
    intervals: Sequence[StatusInterval], *, start: datetime, end: datetime
) -> Markup:
    """One lane per EVSE/connector, one bar per status interval between start and end."""
    lanes = sorted({(i.evse_id, i.connector_id) for i in intervals})
    if not lanes:
        return Markup('<p class="muted">No status changes in this window.</p>')
    plot = WIDTH - LEFT
    height = LANE * len(lanes) + 20
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="status timeline from {when(start)} to {when(end)}">'
    ]
    for row, (evse, connector) in enumerate(lanes):
        y = row * LANE
        label = "station" if evse == 0 and connector == 0 else f"EVSE {evse} / {connector}"
        parts.append(f'<text x="0" y="{y + 15}" class="lane">{escape(label)}</text>')
        for i in intervals:
            if (i.evse_id, i.connector_id) != (evse, connector):
                continue
            x0 = _x(max(utc(i.started_at), start), start, end, plot)
            x1 = _x(utc(i.ended_at) if i.ended_at else end, start, end, plot)
            title = f"{i.status} {i.error_code or ''} {when(i.started_at)} → {when(i.ended_at)}"
            parts.append(
                f'<rect x="{LEFT + x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.0):.1f}" '
                f'height="{LANE - 6}" class="st-{status_class(i.status)}">'
                f"<title>{escape(title)}</title></rect>"
            )
    axis = LANE * len(lanes) + 14
    parts.append(f'<text x="{LEFT}" y="{axis}" class="axis">{escape(when(start))}</text>')
    parts.append(
        f'<text x="{WIDTH}" y="{axis}" class="axis" text-anchor="end">{escape(when(end))}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class Series:
    """One measurand over time, in its normalised unit."""

    measurand: str
    unit: str
    points: list[tuple[datetime, Decimal]]


def series_of(values: Sequence[SampledValue], measurand: str) -> Series:
    """The whole-EVSE (no phase) samples of one measurand, in time order."""
    points = sorted(
        (utc(v.timestamp), v.value)
        for v in values
        if v.measurand == measurand and v.phase is None and v.value is not None
    )
    unit = next((v.unit for v in values if v.measurand == measurand and v.unit), "")
    return Series(measurand=measurand, unit=unit or "", points=[(t, d) for t, d in points])


def number(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent (11000.000000 → 11000, 7.200 → 7.2)."""
    text = f"{value.normalize():f}"
    return text


TOP = 34  # room for the legend above the plot


def _polyline(series: Series, start: datetime, end: datetime, box: tuple[int, int, int]) -> str:
    left, width, height = box
    values = [v for _, v in series.points]
    lo, hi = min(values), max(values)
    span = (hi - lo) or Decimal(1)
    return " ".join(
        f"{left + _x(t, start, end, width):.1f},{TOP + float((hi - v) / span) * height:.1f}"
        for t, v in series.points
    )


def meter_chart(values: Sequence[SampledValue]) -> Markup:
    """Power and energy of a session over time: two lines, each on its own scale."""
    lines = [s for s in (series_of(values, POWER), series_of(values, ENERGY)) if s.points]
    if not lines:
        return Markup('<p class="muted">No power or energy samples for this session.</p>')
    times = [t for s in lines for t, _ in s.points]
    start, end = min(times), max(times)
    width, height, left = WIDTH - 20, 180, 10
    parts = [
        f'<svg class="meter" viewBox="0 0 {WIDTH} {TOP + height + 22}" role="img" '
        'aria-label="power and energy over time">',
        f'<rect x="{left}" y="{TOP}" width="{width}" height="{height}" class="plot"/>',
    ]
    for index, series in enumerate(lines):
        css = "power" if series.measurand == POWER else "energy"
        values_only = [v for _, v in series.points]
        parts.append(
            f'<polyline class="line-{css}" fill="none" '
            f'points="{_polyline(series, start, end, (left, width, height))}"/>'
        )
        low, high = number(min(values_only)), number(max(values_only))
        legend = f"{series.measurand}: {low} – {high} {series.unit}"
        parts.append(
            f'<text x="{left + index * (width // 2)}" y="14" class="legend-{css}">'
            f"{escape(legend)}</text>"
        )
    axis = TOP + height + 16
    parts.append(f'<text x="{left}" y="{axis}" class="axis">{escape(when(start))}</text>')
    parts.append(
        f'<text x="{left + width}" y="{axis}" class="axis" text-anchor="end">'
        f"{escape(when(end))}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
