"""Transaction schemas: energy in whole Wh for display plus the exact decimal (never a float)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from joule.api.schemas.common import UtcDatetime, exact, whole_wh
from joule.domain.registry.transactions import TransactionDetail, TransactionView
from joule.storage.models import SampledValue


class TransactionRead(BaseModel):
    """A transaction with its energy: live while active, final once completed."""

    id: int = Field(description="Joule's id (1.6: the transactionId the station uses)")
    station_id: str
    evse_id: int | None
    connector_id: int | None
    status: str = Field(description="active or completed")
    id_token: str | None
    started_at: UtcDatetime | None
    stopped_at: UtcDatetime | None
    energy_wh: int | None = Field(description="Wh rounded half-up: latest register − start")
    energy_wh_exact: str | None = Field(description="the exact Wh as a decimal string")
    meter_start_wh: str | None = Field(description="start register, exact decimal Wh")
    meter_stop_wh: str | None = Field(description="stop register, exact decimal Wh")
    stop_reason: str | None
    transaction_uid: str = Field(description="the station's id (2.x transactionId)")
    incomplete: bool = Field(description="TransactionEvent seqNos are missing (E §1.3.2)")
    missing_seq_nos: str | None
    auth_status: str | None = Field(
        description="the id token's status when the transaction started (C16 §4.8, E05.FR.01)"
    )
    auth_reason: str | None = Field(
        description="why the token got that status (access rules, issue 5), e.g. a time window"
    )
    offline: bool = Field(description="delivered after the station was offline (E04.FR.03)")
    stale: bool = Field(
        description="the station rebooted or started anew without ending it (scenario 11, Q23)"
    )

    @classmethod
    def of(cls, view: TransactionView) -> TransactionRead:
        """The read model of a transaction view."""
        tx = view.transaction
        return cls(
            id=tx.id,
            station_id=tx.station_id,
            evse_id=tx.evse_id,
            connector_id=tx.connector_id,
            status=tx.status,
            id_token=tx.id_token,
            started_at=tx.started_at,
            stopped_at=tx.stopped_at,
            energy_wh=whole_wh(view.energy_wh),
            energy_wh_exact=exact(view.energy_wh),
            meter_start_wh=exact(tx.meter_start_wh),
            meter_stop_wh=exact(tx.meter_stop_wh),
            stop_reason=tx.stop_reason,
            transaction_uid=tx.transaction_uid,
            incomplete=bool(tx.missing_seq_nos),
            missing_seq_nos=tx.missing_seq_nos,
            auth_status=tx.auth_status,
            auth_reason=tx.auth_reason,
            offline=bool(tx.offline),
            stale=bool(tx.stale),
        )


class MeterValueRead(BaseModel):
    """One sampled value, normalised to SI units, with the reading as the station sent it."""

    timestamp: UtcDatetime
    measurand: str
    phase: str | None
    location: str | None
    context: str | None
    value: str | None = Field(description="exact decimal in `unit`; null when unreadable")
    unit: str | None
    raw_value: str
    raw_unit: str | None
    signed_data: str | None = Field(description="signed meter data, byte for byte")

    @classmethod
    def of(cls, sample: SampledValue) -> MeterValueRead:
        """The read model of a stored sample."""
        return cls(
            timestamp=sample.timestamp,
            measurand=sample.measurand,
            phase=sample.phase,
            location=sample.location,
            context=sample.context,
            value=exact(sample.value),
            unit=sample.unit,
            raw_value=sample.raw_value,
            raw_unit=sample.raw_unit,
            signed_data=sample.signed_data,
        )


class TransactionDetailRead(TransactionRead):
    """A transaction with every meter value it received."""

    meter_values: list[MeterValueRead]

    @classmethod
    def of_detail(cls, detail: TransactionDetail) -> TransactionDetailRead:
        """The read model of a transaction with its meter values."""
        return cls(
            **TransactionRead.of(detail.view).model_dump(),
            meter_values=[MeterValueRead.of(m) for m in detail.meter_values],
        )
