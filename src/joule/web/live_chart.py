"""The station page's live power/energy chart: drawn here, redrawn by live.js as samples arrive.

One line per EVSE and measurand (power in kW on its own scale from 0, the energy register in kWh
on its own scale), time on x. The samples travel in a data attribute so the browser redraws with
the same arithmetic when a MeterValuesReceived event adds a point; no chart library.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from joule.domain.reporting.network import ENERGY, POWER, Sample
from joule.web.fmt import when

WIDTH = 720
HEIGHT = 200
TOP = 24
LEFT = 10
PLOT_W = WIDTH - 2 * LEFT
PLOT_H = HEIGHT - TOP - 22
KIND = {POWER: "power", ENERGY: "energy"}


def _points(samples: Sequence[Sample]) -> list[list[object]]:
    # [epoch ms, "power"|"energy", EVSE, value in kW / kWh as a string (Decimal, no float)]
    return [
        [
            int(s.at.timestamp() * 1000),
            KIND[s.measurand],
            s.evse_id,
            f"{(s.value / 1000).normalize():f}",  # 10000 W → "10", never "1E+1"
        ]
        for s in samples
        if s.measurand in KIND
    ]


def lines(points: list[list[object]]) -> dict[str, str]:
    """ "power-1" → the polyline's points attribute (the same arithmetic as live.js)."""
    if not points:
        return {}
    times = [int(str(p[0])) for p in points]
    t0, t1 = min(times), max(times)
    span_t = (t1 - t0) or 1
    out: dict[str, list[str]] = {}
    for kind in ("power", "energy"):
        values = [Decimal(str(p[3])) for p in points if p[1] == kind]
        if not values:
            continue
        lo = Decimal(0) if kind == "power" else min(values)
        hi = max(values)
        span_v = (hi - lo) or Decimal(1)
        for p in points:
            if p[1] != kind:
                continue
            x = LEFT + (int(str(p[0])) - t0) / span_t * PLOT_W
            y = TOP + float((hi - Decimal(str(p[3]))) / span_v) * PLOT_H
            out.setdefault(f"{kind}-{p[2]}", []).append(f"{x:.1f},{y:.1f}")
    return {key: " ".join(value) for key, value in out.items()}


def live_chart(samples: Sequence[Sample], *, hours: int) -> Markup:
    """The chart with its samples; empty (and filled live) when none came in the window."""
    points = _points(samples)
    data = escape(json.dumps(points, separators=(",", ":")))
    parts = [
        f'<svg id="live-chart" class="meter" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="power and energy, last {hours} h" data-points="{data}" '
        f'data-samples="{len(points)}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" class="plot"/>',
        '<g class="lines">',
    ]
    for key, coords in sorted(lines(points).items()):
        kind = key.split("-")[0]
        parts.append(
            f'<polyline class="line-{kind}" data-line="{escape(key)}" fill="none" '
            f'points="{coords}"/>'
        )
    parts.append("</g>")
    last = {
        kind: next((p for p in reversed(points) if p[1] == kind), None) for kind in KIND.values()
    }
    power = f"{last['power'][3]} kW" if last["power"] else "—"
    energy = f"{last['energy'][3]} kWh" if last["energy"] else "—"
    parts.append(
        f'<text x="{LEFT}" y="14" class="legend-power" data-legend="power">'
        f"power {escape(power)}</text>"
        f'<text x="{LEFT + PLOT_W // 2}" y="14" class="legend-energy" data-legend="energy">'
        f"energy register {escape(energy)}</text>"
    )
    first = when(samples[0].at) if samples else ""
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 6}" class="axis" data-axis="start">{escape(first)}</text>'
        f'<text x="{LEFT + PLOT_W}" y="{HEIGHT - 6}" class="axis" text-anchor="end" '
        f'data-axis="end">{escape(when(samples[-1].at) if samples else "")}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
