"""What happens at an EVSE, as data: statuses, sessions, reservations and the effects of change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from joule.simulator.meter import Reading
from joule.simulator.model import EvModel, IdToken


class Status(StrEnum):
    """Connector status (C16 §7.7 ChargePointStatus; mapped to 2.x ConnectorStatusEnumType)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"

    @property
    def v2x(self) -> str:
        """The 2.x connectorStatus: every state with a cable in is Occupied."""
        if self in (Status.AVAILABLE, Status.RESERVED, Status.UNAVAILABLE, Status.FAULTED):
            return self.value
        return "Occupied"


@dataclass
class Ev:
    """An EV on the cable."""

    model: EvModel
    soc: Decimal
    target_soc: Decimal


@dataclass
class Reservation:
    """A reservation of this EVSE for a token until it expires."""

    id: int
    token: IdToken
    expires_at: datetime
    group: str | None = None


@dataclass
class Session:
    """A transaction on this EVSE."""

    evse_id: int
    transaction_id: str  # the station's id (2.x transactionId); 1.6 gets csms_id from the CSMS
    token: IdToken
    started_at: datetime
    meter_start_wh: int
    remote_start_id: int | None = None
    reservation_id: int | None = None
    csms_id: int | None = None  # 1.6: the transactionId of StartTransaction.conf
    charging_state: str = "EVConnected"
    next_seq_no: int = 0
    next_sample_at: datetime | None = None
    meter_stop_wh: int | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None

    def take_seq_no(self) -> int:
        """The next seqNo: +1 per TransactionEvent, from 0 per transaction (E §1.3.2)."""
        n = self.next_seq_no
        self.next_seq_no += 1
        return n

    @property
    def ended(self) -> bool:
        """True once the transaction has stopped."""
        return self.stopped_at is not None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The connector's status changed."""

    evse_id: int
    status: Status
    error_code: str
    info: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TxStarted:
    """A transaction started (1.6 StartTransaction, 2.x TransactionEvent Started)."""

    session: Session
    reading: Reading
    trigger: str  # 2.x triggerReason: Authorized | RemoteStart
    at: datetime
    charging_state: str = "EVConnected"  # the state when it started, before any energy flows


@dataclass(frozen=True, slots=True)
class TxSampled:
    """A periodic meter reading of a running transaction."""

    session: Session
    reading: Reading
    trigger: str = "MeterValuePeriodic"


@dataclass(frozen=True, slots=True)
class TxStateChanged:
    """The charging state changed (2.x TransactionEvent Updated, ChargingStateChanged)."""

    session: Session
    charging_state: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TxEnded:
    """A transaction ended (1.6 StopTransaction, 2.x TransactionEvent Ended)."""

    session: Session
    reading: Reading
    reason: str  # version-neutral (2.x ReasonEnumType names plus 1.6's resets); dialects map it
    trigger: str  # 2.x triggerReason
    token: IdToken | None
    at: datetime
    charging_state: str = "Idle"  # EVConnected while the cable is still in


@dataclass(frozen=True, slots=True)
class ReservationEnded:
    """A reservation ended without being used (2.x ReservationStatusUpdate)."""

    evse_id: int
    reservation: Reservation
    reason: str  # Expired | Removed


Effect = StatusChanged | TxStarted | TxSampled | TxStateChanged | TxEnded | ReservationEnded
