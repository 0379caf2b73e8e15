"""Helpers for simulator unit tests: stations that are built but never connected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from joule.kit.clock import FixedClock
from joule.ocpp.frames import encode_call
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.simulator.model import LAYOUTS
from joule.simulator.station import SimulatedStation, StationSpec

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
VERSIONS = (OcppVersion.V16, OcppVersion.V201, OcppVersion.V21)


def offline_station(version: OcppVersion, **spec: Any) -> tuple[SimulatedStation, FixedClock]:
    """A station whose clock only moves when told to, with TAG-1 on its local list."""
    clock = FixedClock(T0)
    values: dict[str, Any] = {"evses": LAYOUTS["mixed"], **spec}
    station = SimulatedStation(
        StationSpec(f"UNIT-{version.value}", version=version, **values),
        "ws://127.0.0.1:9/ocpp",
        clock=clock,
        traffic=False,
    )
    station.chargepoint.auth.update_list(1, "Full", {"TAG-1": "Accepted"})
    station.chargepoint.tick(T0)
    return station, clock


def later(clock: FixedClock, seconds: float) -> datetime:
    """Move the clock on."""
    clock.set(clock.now() + timedelta(seconds=seconds))
    return clock.now()


def wire(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the receiver sees it (Decimals become JSON numbers)."""
    decoded: dict[str, Any] = orjson.loads(encode_call("x", action, payload))[3]
    return decoded


def check(version: OcppVersion, action: str, kind: str, payload: dict[str, Any]) -> None:
    """Validate against the official schema (raises OcppError)."""
    validate(version, action, "request" if kind == "request" else "response", wire(action, payload))
