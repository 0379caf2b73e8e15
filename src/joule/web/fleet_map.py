"""The overview's map: stations drawn at their site's coordinates, no tiles (works offline).

An equirectangular projection of the points' bounding box (longitude scaled by the cosine of the
mean latitude so a city does not look stretched), markers coloured by the station's state, each a
link to the station. Stations on the same site sit on a small ring around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 360
PAD = 24  # pixels around the points
RING = 9  # pixels between co-located stations and their site's point
MIN_SPAN = 0.01  # degrees: a single site still gets a sensible box


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A station with its site's coordinates and its one-word state."""

    station_id: str
    site: str
    latitude: float
    longitude: float
    state: str


def _box(points: Sequence[MapPoint]) -> tuple[float, float, float, float]:
    lats = [p.latitude for p in points]
    lons = [p.longitude for p in points]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    if lat1 - lat0 < MIN_SPAN:
        mid = (lat0 + lat1) / 2
        lat0, lat1 = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
    if lon1 - lon0 < MIN_SPAN:
        mid = (lon0 + lon1) / 2
        lon0, lon1 = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
    return lat0, lat1, lon0, lon1


def project(points: Sequence[MapPoint]) -> list[tuple[MapPoint, float, float]]:
    """Each point with its (x, y) in the SVG, aspect kept, north up."""
    if not points:
        return []
    lat0, lat1, lon0, lon1 = _box(points)
    squeeze = math.cos(math.radians((lat0 + lat1) / 2)) or 1e-6
    span_x, span_y = (lon1 - lon0) * squeeze, lat1 - lat0
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    off_x = (WIDTH - span_x * scale) / 2
    off_y = (HEIGHT - span_y * scale) / 2
    by_spot: dict[tuple[float, float], list[MapPoint]] = {}
    for p in points:
        by_spot.setdefault((p.latitude, p.longitude), []).append(p)
    placed: list[tuple[MapPoint, float, float]] = []
    for (lat, lon), group in by_spot.items():
        x = off_x + (lon - lon0) * squeeze * scale
        y = off_y + (lat1 - lat) * scale
        for index, p in enumerate(sorted(group, key=lambda q: q.station_id)):
            if len(group) == 1:
                placed.append((p, x, y))
                continue
            angle = 2 * math.pi * index / len(group)
            placed.append((p, x + RING * math.cos(angle), y + RING * math.sin(angle)))
    return placed


def fleet_map(points: Sequence[MapPoint]) -> Markup:
    """The SVG map, or nothing when no station has coordinates (the list says it all then)."""
    if not points:
        return Markup("")
    parts = [
        f'<svg class="fleet-map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="map of {len(points)} stations">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" class="plot"/>',
    ]
    for p, x, y in project(points):
        label = f"{p.station_id} · {p.site} · {p.state}"
        parts.append(
            f'<a href="/ui/stations/{escape(quote(p.station_id, safe=""))}" class="marker-link">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" class="marker state-{escape(p.state)}" '
            f'data-marker="{escape(p.station_id)}"><title>{escape(label)}</title></circle></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
