"""What the gateway needs from the rest of Joule, as ports the runtime wires up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from joule.bus.envelopes import StationCall


@dataclass(frozen=True, slots=True)
class StationAccess:
    """What the gateway must know about a station to let it in (mirrors the domain's record)."""

    station_id: str
    registration: str  # accepted | pending | rejected
    password_hash: str | None
    security_profile: int
    min_security_profile: int
    boot_status: str | None
    timezone: str | None
    assume_subprotocol: str | None
    lenient: bool | None


class StationDirectory(Protocol):
    """Station records as the gateway sees them."""

    async def lookup(self, station_id: str) -> StationAccess | None: ...

    async def register_unknown(self, station_id: str, *, accept: bool) -> StationAccess: ...

    async def connected(
        self, station_id: str, *, ocpp_version: str, security_profile: int
    ) -> None: ...

    async def disconnected(self, station_id: str) -> None: ...

    async def audit(
        self, station_id: str | None, *, remote: str | None, outcome: str, reason: str
    ) -> None: ...


class CallSink(Protocol):
    """Where validated station CALLs go (the bus)."""

    async def dispatch(self, call: StationCall) -> dict[str, Any]: ...


class FrameObserver(Protocol):
    """Sees every frame in both directions (message log, metrics, last seen). Must not block.

    `repaired` is set on Joule's CALLRESULT to a CALL whose frame the gateway had to repair
    (a tolerated quirk, a stripped property): the log keeps such an exchange whole (ADR 0019).
    """

    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
        repaired: bool = False,
    ) -> None: ...
