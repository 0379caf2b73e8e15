"""What the station says, independent of version: the Dialect interface and its message types.

A dialect turns station events into one OCPP version's messages and reads the CSMS's answers.
Transaction-related messages (C16 §3.7, P2 E04) are TxMessages: queued, delivered in order,
retried; the rest are Outgoing and sent at once when online.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from joule.ocpp.timestamps import parse_timestamp
from joule.ocpp.versions import OcppVersion
from joule.simulator.effects import (
    ReservationEnded,
    Session,
    Status,
    StatusChanged,
    TxEnded,
    TxSampled,
    TxStarted,
    TxStateChanged,
)
from joule.simulator.meter import Reading
from joule.simulator.model import IdToken

Payload = dict[str, Any]
Stamp = Callable[[datetime], str]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A CALL to send: action and payload."""

    action: str
    payload: Payload


@dataclass
class TxMessage:
    """A transaction-related CALL: queued while offline, retried on failure, in order."""

    action: str
    render: Callable[[], Payload]  # built at send time: 1.6 learns its transactionId late
    session: Session
    event: str  # Started | Updated | Ended
    offline: bool  # the event happened while the station was offline (E04.FR.03)
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class StationInfo:
    """What BootNotification says about the station."""

    vendor: str
    model: str
    serial_number: str
    firmware_version: str


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """The CSMS's verdict on a BootNotification."""

    status: str  # Accepted | Pending | Rejected
    interval_s: int
    current_time: datetime | None


@dataclass(frozen=True, slots=True)
class TxAnswer:
    """What the answer to a transaction message tells the station."""

    token_status: str | None  # idTagInfo / idTokenInfo status, when given
    csms_id: int | None = None  # 1.6 StartTransaction.conf transactionId


def read_boot(payload: Payload) -> BootAnswer:
    """BootNotification.conf / BootNotificationResponse (same shape in every version)."""
    current = payload.get("currentTime")
    at = parse_timestamp(current).at if isinstance(current, str) else None
    return BootAnswer(str(payload.get("status")), int(payload.get("interval", 0)), at)


def token_status(info: object) -> str | None:
    """The status inside an idTagInfo / idTokenInfo object."""
    return str(info["status"]) if isinstance(info, dict) and "status" in info else None


class Dialect(Protocol):
    """One OCPP version's messages for the station's events."""

    version: OcppVersion

    def visible(self, status: Status) -> str:
        """The status as this version shows it (2.x folds the cable states into Occupied)."""
        ...

    def boot(self, info: StationInfo, reason: str) -> Outgoing: ...

    def heartbeat(self) -> Outgoing: ...

    def status(self, change: StatusChanged) -> list[Outgoing]: ...

    def station_status(self, at: datetime) -> Outgoing | None: ...

    def authorize(self, token: IdToken) -> Outgoing: ...

    def read_authorize(self, payload: Payload) -> str | None: ...

    def tx_started(self, effect: TxStarted, *, offline: bool) -> TxMessage: ...

    def tx_sampled(self, effect: TxSampled, *, offline: bool) -> TxMessage: ...

    def tx_state(self, effect: TxStateChanged, *, offline: bool) -> TxMessage | None: ...

    def tx_ended(self, effect: TxEnded, *, offline: bool) -> TxMessage: ...

    def read_tx(self, message: TxMessage, payload: Payload) -> TxAnswer: ...

    def meter_values(self, evse_id: int, reading: Reading, session: Session | None) -> Outgoing: ...

    def firmware_status(self, status: str, request_id: int | None) -> Outgoing: ...

    def log_status(self, status: str, request_id: int | None, *, diagnostics: bool) -> Outgoing: ...

    def reservation_ended(self, effect: ReservationEnded) -> Outgoing | None: ...
