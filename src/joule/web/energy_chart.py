"""Energy per day as hand-drawn SVG bars (ADR 0005: no chart library), issue 4."""

from __future__ import annotations

from markupsafe import Markup, escape

from joule.domain.reporting.energy import EnergyPerDay
from joule.web.charts import TOP, WIDTH, number
from joule.web.fmt import kwh

HEIGHT = 160
LEFT = 10
GAP = 0.2  # the share of each day's slot left blank between bars


def energy_bars(report: EnergyPerDay | None) -> Markup:
    """One bar per local day, its height proportional to the day's energy (exact Decimal)."""
    if report is None or not report.days:
        return Markup('<p class="muted">No energy figures.</p>')
    if report.total_wh == 0:
        return Markup(
            f'<p class="muted">No energy delivered in the last {len(report.days)} days.</p>'
        )
    top = max(d.wh for d in report.days)
    plot = WIDTH - 2 * LEFT
    slot = plot / len(report.days)
    first, last = report.days[0].day, report.days[-1].day
    parts = [
        f'<svg class="energy-days" viewBox="0 0 {WIDTH} {TOP + HEIGHT + 22}" role="img" '
        f'aria-label="energy per day from {first} to {last} ({escape(report.timezone)})">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot}" height="{HEIGHT}" class="plot"/>',
        f'<text x="{LEFT}" y="14" class="legend-energy">'
        f"{escape(f'highest day {kwh(top)}, total {kwh(report.total_wh)}')}</text>",
    ]
    for index, day in enumerate(report.days):
        if day.wh <= 0:
            continue
        h = float(day.wh / top) * HEIGHT
        x = LEFT + index * slot + slot * GAP / 2
        sessions = f"{day.sessions} session{'' if day.sessions == 1 else 's'}"
        title = f"{day.day}: {kwh(day.wh)} ({number(day.wh)} Wh), {sessions}"
        parts.append(
            f'<rect class="bar-energy" data-day="{day.day}" data-wh="{number(day.wh)}" '
            f'x="{x:.1f}" y="{TOP + HEIGHT - h:.1f}" width="{slot * (1 - GAP):.1f}" '
            f'height="{max(h, 1.0):.1f}"><title>{escape(title)}</title></rect>'
        )
    axis = TOP + HEIGHT + 16
    parts.append(f'<text x="{LEFT}" y="{axis}" class="axis">{first}</text>')
    parts.append(f'<text x="{LEFT + plot}" y="{axis}" class="axis" text-anchor="end">{last}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
