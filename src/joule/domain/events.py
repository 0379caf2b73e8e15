"""Domain events: published on the bus after the data they describe is durable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class StationConnected:
    station_id: str
    ocpp_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StationDisconnected:
    station_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StationBooted:
    station_id: str
    status: str  # Accepted | Pending | Rejected
    at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    station_id: str
    evse_id: int  # 0 = the station as a whole
    connector_id: int
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    transaction_pk: int
    station_id: str
    evse_id: int | None
    id_token: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TransactionUpdated:
    transaction_pk: int
    station_id: str
    energy_wh: Decimal | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MeterValuesReceived:
    """The newest whole-EVSE power and energy register of one message (for live charts)."""

    station_id: str
    evse_id: int
    transaction_pk: int | None
    power_w: Decimal | None  # Power.Active.Import, all phases, in W
    energy_wh: Decimal | None  # Energy.Active.Import.Register, in Wh
    at: datetime


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    transaction_pk: int
    station_id: str
    energy_wh: Decimal | None
    stop_reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SecurityEventReceived:
    station_id: str
    type: str
    critical: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """Tokens, drivers, groups, memberships or access rules changed (published after commit).

    Local authorization lists of the organisation's network are recomputed on it (issue 5);
    organisation_id None = the change may touch every network (a network-wide token or group).
    """

    organisation_id: str | None
    reason: str
