"""Envelopes that cross the bus between the gateway and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from joule.ocpp.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class StationCall:
    """A validated CALL from a station, to be handled by the core's dispatcher."""

    station_id: str
    version: OcppVersion
    message_id: str
    action: str
    payload: dict[str, Any]
    received_at: datetime
    station_timezone: str | None = None
    quirks: tuple[str, ...] = field(default_factory=tuple)  # tolerated quirks (scenario 40)
