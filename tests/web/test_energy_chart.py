"""The energy-per-day bars (issue 4): heights proportional to exact Wh, empty windows said so."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from joule.domain.reporting.energy import DayEnergy, EnergyPerDay
from joule.web.energy_chart import HEIGHT, energy_bars


def report(*wh: str) -> EnergyPerDay:
    return EnergyPerDay(
        timezone="Europe/Berlin",
        days=[
            DayEnergy(date(2026, 11, 1 + i), Decimal(v), 1 if v != "0" else 0)
            for i, v in enumerate(wh)
        ],
    )


def test_bars_are_proportional_and_empty_days_have_none() -> None:
    svg = str(energy_bars(report("1000", "0", "250.5")))
    heights = [float(h) for h in re.findall(r'class="bar-energy"[^>]*height="([0-9.]+)"', svg)]
    assert heights == [HEIGHT, round(HEIGHT * 250.5 / 1000, 1)]
    assert 'data-day="2026-11-03" data-wh="250.5"' in svg
    assert "2026-11-01" in svg and "2026-11-03" in svg and "(Europe/Berlin)" in svg
    assert "total 1.251 kWh" in svg  # 1250.5 Wh, rounded half-up for display only


def test_a_window_without_energy_says_so() -> None:
    assert "No energy delivered in the last 2 days." in energy_bars(report("0", "0"))
    assert "No energy figures." in energy_bars(None)
