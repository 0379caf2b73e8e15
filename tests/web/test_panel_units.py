"""Pure pieces of the newer panels: configuration rows from either version, the map projection,
the live chart's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from joule.domain.reporting.network import ENERGY, POWER, Sample
from joule.web.fleet_map import HEIGHT, PAD, WIDTH, MapPoint, fleet_map, project
from joule.web.live_chart import live_chart
from joule.web.station_tools import answer_status, config_rows


def test_configuration_rows_from_get_variables() -> None:
    answer = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "300",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            },
            {
                "attributeStatus": "Accepted",
                "attributeValue": "30",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "MessageTimeout", "instance": "Default"},
            },
            {
                "attributeStatus": "UnknownVariable",
                "component": {"name": "TxCtrlr"},
                "variable": {"name": "TxStopPoint"},
            },
            {
                "attributeStatus": "Accepted",
                "attributeValue": "true",
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Available"},
            },
        ]
    }
    rows = {r["key"]: (r["value"], r["readonly"], r["status"]) for r in config_rows(answer)}
    assert rows == {
        "EVSE.Available": ("true", True, "Accepted"),  # EVSE-scoped: not editable by key
        "OCPPCommCtrlr.HeartbeatInterval": ("300", False, "Accepted"),
        "OCPPCommCtrlr.MessageTimeout[Default]": ("30", False, "Accepted"),
        "TxCtrlr.TxStopPoint": (None, True, "UnknownVariable"),
    }
    assert answer_status({"setVariableResult": [{"attributeStatus": "RebootRequired"}]}) == (
        "RebootRequired"
    )
    assert answer_status({"status": "NotSupported"}) == "NotSupported"
    assert answer_status({}) == "?"


def test_map_keeps_points_inside_and_north_up() -> None:
    north = MapPoint("N", "a", 55.68, 12.57, "online")
    south = MapPoint("S", "b", 48.85, 2.35, "faulted")
    placed = {p.station_id: (x, y) for p, x, y in project([north, south])}
    for x, y in placed.values():
        assert PAD - 0.01 <= x <= WIDTH - PAD + 0.01 and PAD - 0.01 <= y <= HEIGHT - PAD + 0.01
    assert placed["N"][1] < placed["S"][1] and placed["N"][0] > placed["S"][0]
    # Two stations on one site sit on a ring around it, not on top of each other.
    twins = project(
        [MapPoint("A", "s", 52.0, 4.0, "online"), MapPoint("B", "s", 52.0, 4.0, "online")]
    )
    assert {(round(x), round(y)) for _, x, y in twins} == {(369, 180), (351, 180)}
    svg = str(fleet_map([MapPoint("X <1>", "s&t", 52.0, 4.0, "charging")]))
    assert 'href="/ui/stations/X%20%3C1%3E"' in svg and "X &lt;1&gt; · s&amp;t" in svg
    assert str(fleet_map([])) == ""


def test_live_chart_scales_power_from_zero() -> None:
    t0 = datetime(2026, 11, 28, 12, tzinfo=UTC)
    samples = [
        Sample(t0, 1, 7, POWER, Decimal("5000")),
        Sample(t0 + timedelta(minutes=1), 1, 7, POWER, Decimal("10000")),
        Sample(t0 + timedelta(minutes=1), 1, 7, ENERGY, Decimal("1500")),
    ]
    svg = str(live_chart(samples, hours=2))
    assert 'data-samples="3"' in svg
    assert 'points="10.0,101.0 710.0,24.0"' in svg  # 5 kW halfway down a 0–10 kW scale
    assert "power 10 kW" in svg and "energy register 1.5 kWh" in svg
    assert 'data-samples="0"' in str(live_chart([], hours=2))
