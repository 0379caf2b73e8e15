"""Metering service: store sampled values as sent (read in SI units), keep live energy current."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from joule.domain.events import MeterValuesReceived, TransactionUpdated
from joule.domain.metering.rules import (
    ENERGY_REGISTER,
    QUIRK_IMPLAUSIBLE_METER_VALUE,
    QUIRK_IMPLAUSIBLE_TIMESTAMP,
    QUIRK_KWH_AS_WH,
    QUIRK_METER_RESET,
    is_live_register,
    plan_register_update,
    plausible_register,
    storable_value,
)
from joule.domain.transaction.lifecycle import ACTIVE, as_utc, energy_wh
from joule.ocpp.sampled import Sample, normalised, pack
from joule.ocpp.timestamps import ParsedTime, parse_timestamp
from joule.storage.models import Transaction
from joule.storage.repositories import meter_state as meter_states
from joule.storage.repositories import transaction as transactions
from joule.storage.repositories.meter import queue_meter_values
from joule.storage.repositories.meter_state import MeterState
from joule.storage.uow import UnitOfWork


class MeterTarget(Protocol):
    """What a reading is attached to: an ORM Transaction, or its lean MeterState (1.6 hot path)."""

    id: int
    station_id: str
    status: str
    started_at: datetime | None
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    last_meter_wh: Decimal | None
    last_meter_at: datetime | None


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One meterValue element: a station timestamp, its sampled values as sent (stored so,
    ADR 0015) and, version-neutral, those of the whole EVSE (what moves energy and power)."""

    timestamp: str
    whole_evse: tuple[Sample, ...]
    sampled: list[dict[str, Any]]  # the sampledValue list, after quirk repair
    family: str  # "1.6" or "2.x": how `sampled` reads


@dataclass(frozen=True, slots=True)
class RegisterReading:
    """A reading of the live energy register (Energy.Active.Import.Register, outlet, all phases)."""

    at: datetime
    wh: Decimal
    context: str | None


@dataclass(frozen=True, slots=True)
class MeterOutcome:
    """What recording a batch of readings did."""

    registers: tuple[RegisterReading, ...]  # in message order
    quirks: tuple[str, ...]
    moved: tuple[MeterTarget, ...]  # transactions whose live energy register moved


@dataclass(frozen=True, slots=True)
class StationTime:
    """A station timestamp: as sent (parsed) and the time Joule orders by."""

    sent: datetime  # the payload's instant (received_at when unreadable): part of dedupe keys
    at: datetime  # what Joule stores and orders by: received_at when implausible (Q8)
    implausible: bool


def _parse(raw: str, assume_tz: str | None) -> ParsedTime | None:
    try:
        return parse_timestamp(raw, assume_tz)
    except ValueError:
        pass
    if assume_tz:
        # A misconfigured station zone must not make every timestamp unreadable.
        try:
            return parse_timestamp(raw)
        except ValueError:
            pass
    return None


def station_time(raw: str, *, assume_tz: str | None, received_at: datetime) -> StationTime:
    """Parse a station timestamp (Q7: no offset → the station's zone; Q8: 1970 → receive time)."""
    parsed = _parse(raw, assume_tz)
    if parsed is None:
        return StationTime(received_at, received_at, True)
    if parsed.implausible:
        # 1970 before clock sync: order by our receive time; the quirk is counted.
        return StationTime(parsed.at, received_at, True)
    return StationTime(parsed.at, parsed.at, False)


def _note(quirks: list[str], quirk: str | None) -> None:
    if quirk is not None and quirk not in quirks:
        quirks.append(quirk)


def record_readings(
    uow: UnitOfWork,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int | None,
    readings: Sequence[MeterReading],
    attach: Callable[[datetime], MeterTarget | None],
    assume_tz: str | None,
    received_at: datetime,
) -> MeterOutcome:
    """Queue MeterValue rows, each reading attached to attach(its time), and move live energy."""
    rows: list[tuple[Any, ...]] = []
    registers: list[RegisterReading] = []
    quirks: list[str] = []
    changed: dict[int, MeterTarget] = {}
    live: dict[str, tuple[datetime, Decimal, int | None]] = {}  # newest power and register
    for reading in readings:
        when = station_time(reading.timestamp, assume_tz=assume_tz, received_at=received_at)
        if when.implausible:
            _note(quirks, QUIRK_IMPLAUSIBLE_TIMESTAMP)
        at = when.at
        tx = attach(at)
        tx_pk = tx.id if tx is not None else None
        whole_wh: Decimal | None = None  # the reading's whole-EVSE import register and power
        whole_w: Decimal | None = None
        for sample in reading.whole_evse:
            value = normalised(sample)
            if value is None:
                continue
            measurand = sample.measurand
            if measurand == _POWER:
                whole_w = storable_value(value)
            if measurand in (_POWER, ENERGY_REGISTER):
                # The newest whole-EVSE power and energy register, for the live event.
                known = live.get(measurand)
                if known is None or at >= known[0]:
                    live[measurand] = (at, value, tx_pk)
            if not is_live_register(measurand, sample.location, sample.phase):
                continue
            if not plausible_register(value):
                _note(quirks, QUIRK_IMPLAUSIBLE_METER_VALUE)
                continue
            whole_wh = value
            registers.append(RegisterReading(at, value, sample.context))
            if tx is None:
                continue
            # Q16 is only detectable on values labelled Wh (or unlabelled: Wh by default).
            labelled_wh = sample.unit in (None, "Wh") and not sample.multiplier
            quirk, moved = advance_register(tx, value, at, detect_kwh=labelled_wh)
            if moved:
                changed[tx.id] = tx
            _note(quirks, quirk)
        # A MeterValue row (METER_VALUE_KEYS order): one per reading, its samples as sent.
        packed = pack(reading.family, reading.sampled)
        rows.append((station_id, evse_id, connector_id, tx_pk, at, whole_wh, whole_w, packed))
    queue_meter_values(uow, rows)
    if live:
        newest = max(live.values(), key=lambda item: item[0])
        power, energy = live.get(_POWER), live.get(ENERGY_REGISTER)
        uow.emit(
            MeterValuesReceived(
                station_id=station_id,
                evse_id=evse_id,
                transaction_pk=newest[2],
                power_w=power[1] if power else None,
                energy_wh=energy[1] if energy else None,
                at=newest[0],
            )
        )
    return MeterOutcome(tuple(registers), tuple(quirks), tuple(changed.values()))


_POWER = "Power.Active.Import"


def advance_register(
    tx: MeterTarget, wh: Decimal, at: datetime, *, detect_kwh: bool = True
) -> tuple[str | None, bool]:
    """Make a register reading the transaction's latest if it is; returns (quirk, moved)."""
    last_at = as_utc(tx.last_meter_at) if tx.last_meter_at is not None else None
    plan = plan_register_update(tx.last_meter_wh, last_at, wh, at)
    if plan.advance:
        tx.last_meter_wh = wh
        tx.last_meter_at = at
        return None, True
    quirk = plan.quirk
    if quirk == QUIRK_KWH_AS_WH and not detect_kwh:
        # A register that was not labelled Wh cannot be Q16; it is still a decrease.
        quirk = QUIRK_METER_RESET
    return quirk, False


def _always(tx: MeterTarget | None) -> Callable[[datetime], MeterTarget | None]:
    def attach(_: datetime) -> MeterTarget | None:
        return tx

    return attach


def _started_by(candidates: list[Transaction]) -> Callable[[datetime], MeterTarget | None]:
    def attach(at: datetime) -> MeterTarget | None:
        for candidate in candidates:
            if candidate.started_at is None or as_utc(candidate.started_at) <= at:
                return candidate
        return None

    return attach


async def record_meter_values(
    uow: UnitOfWork,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int | None,
    readings: Sequence[MeterReading],
    transaction_pk: int | None,
    attach_by_time: bool,
    assume_tz: str | None,
    received_at: datetime,
) -> MeterOutcome:
    """A MeterValues message: attach to the given transaction, or by EVSE and time (Q17)."""
    session = uow.session
    attach: Callable[[datetime], MeterTarget | None]
    if transaction_pk is not None:
        # 1.6 names our transaction id: its lean state, preloaded for the batch
        # (handlers._transaction_16); an id of another station's transaction attaches to nothing.
        tx: MeterTarget | None = None
        if type(transaction_pk) is int:
            tx = await meter_states.meter_state(uow, station_id, transaction_pk)
        attach = _always(tx)
    elif attach_by_time and evse_id > 0:
        # Q17: no (or a 0) transactionId during a running transaction: the active transaction on
        # that EVSE which had started by the sample's time (newest first).
        attach = _started_by(await transactions.active_on_evse(session, station_id, evse_id))
    else:
        attach = _always(None)
    outcome = record_readings(
        uow,
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        readings=readings,
        attach=attach,
        assume_tz=assume_tz,
        received_at=received_at,
    )
    for tx in outcome.moved:
        if isinstance(tx, MeterState):
            tx.updated_at = received_at
            meter_states.moved(uow, tx)  # one executemany UPDATE for the batch, at flush
        elif isinstance(tx, Transaction):
            tx.updated_at = received_at
        if tx.status == ACTIVE:
            uow.emit(
                TransactionUpdated(
                    transaction_pk=tx.id,
                    station_id=station_id,
                    energy_wh=energy_wh(tx),
                    at=as_utc(tx.last_meter_at) if tx.last_meter_at is not None else received_at,
                )
            )
    return outcome
