"""MeterValues for 1.6 and 2.x, and the translation of both versions' meter values."""

from __future__ import annotations

from collections.abc import Iterable

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.metering import service
from joule.domain.metering.rules import QUIRK_EMPTY_SAMPLED_VALUE, QUIRK_TRANSACTION_ID_ZERO
from joule.domain.metering.service import MeterReading
from joule.ocpp.sampled import WHOLE_EVSE_LOCATIONS, is_whole_evse, sample_2x, sample_16
from joule.storage.committer import Preload
from joule.storage.repositories.activity import add_quirks
from joule.storage.repositories.meter_state import load_meter_states


def readings_16(meter_values: Iterable[Payload]) -> tuple[list[MeterReading], bool]:
    """1.6 MeterValue[] → readings, and whether any sampledValue list was empty (Q14)."""
    readings: list[MeterReading] = []
    empty = False
    for meter_value in meter_values:
        sampled = meter_value.get("sampledValue") or []
        if not sampled:
            empty = True
            continue
        # Only whole-EVSE samples move live energy and power; every sample is stored as sent and
        # normalised when read (ADR 0015). The test is sampled.is_whole_evse, inlined: ten
        # samples per MeterValues (T3).
        whole = tuple(
            sample_16(sv)
            for sv in sampled
            if sv.get("phase") is None and sv.get("location") in WHOLE_EVSE_LOCATIONS
        )
        readings.append(MeterReading(meter_value["timestamp"], whole, sampled, "1.6"))
    return readings, empty


def readings_2x(meter_values: Iterable[Payload]) -> tuple[list[MeterReading], bool]:
    """2.x MeterValueType[] → readings, and whether any sampledValue list was empty (Q14)."""
    readings: list[MeterReading] = []
    empty = False
    for meter_value in meter_values:
        sampled = meter_value.get("sampledValue") or []
        if not sampled:
            empty = True
            continue
        whole = tuple(sample_2x(sv) for sv in sampled if is_whole_evse(sv))
        readings.append(MeterReading(meter_value["timestamp"], whole, sampled, "2.x"))
    return readings, empty


def _transaction_16(station_id: str, payload: Payload) -> Preload | None:
    """1.6 MeterValues name their transaction by our id: load it with the batch's others."""
    transaction_id = payload.get("transactionId")
    if type(transaction_id) is int and transaction_id and -(2**63) <= transaction_id < 2**63:
        return {load_meter_states: (transaction_id,)}
    return None


@on("1.6", "MeterValues", preload=_transaction_16)
async def on_meter_values_16(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 MeterValues: store every sample, attach it to its transaction; always {} (C16 §4.7)."""
    connector_id = int(payload["connectorId"])
    readings, empty = readings_16(payload.get("meterValue") or [])
    quirks = [QUIRK_EMPTY_SAMPLED_VALUE] if empty else []
    transaction_id = payload.get("transactionId")
    if transaction_id == 0:
        quirks.append(QUIRK_TRANSACTION_ID_ZERO)  # Q17: attach by connector and time instead
    if readings:
        outcome = await service.record_meter_values(
            ctx.uow,
            station_id=ctx.station_id,
            # 1.6 connector N is EVSE N with connector 1; connector 0 is the main meter.
            evse_id=connector_id,
            connector_id=1 if connector_id > 0 else None,
            readings=readings,
            transaction_pk=transaction_id or None,
            attach_by_time=not transaction_id,
            assume_tz=ctx.station_timezone,
            received_at=ctx.received_at,
        )
        quirks.extend(q for q in outcome.quirks if q not in quirks)
    if quirks:
        await add_quirks(ctx.uow.session, ctx.station_id, tuple(quirks))
    return {}


@on("2.x", "MeterValues")
async def on_meter_values_2x(ctx: HandlerContext, payload: Payload) -> Payload:
    """2.x MeterValues: store every sample (evseId 0 = main meter); always {} (J01.FR.18)."""
    evse_id = int(payload["evseId"])
    readings, empty = readings_2x(payload.get("meterValue") or [])
    quirks = [QUIRK_EMPTY_SAMPLED_VALUE] if empty else []
    if readings:
        outcome = await service.record_meter_values(
            ctx.uow,
            station_id=ctx.station_id,
            evse_id=evse_id,
            connector_id=None,
            readings=readings,
            transaction_pk=None,
            attach_by_time=True,
            assume_tz=ctx.station_timezone,
            received_at=ctx.received_at,
        )
        quirks.extend(q for q in outcome.quirks if q not in quirks)
    if quirks:
        await add_quirks(ctx.uow.session, ctx.station_id, tuple(quirks))
    return {}
