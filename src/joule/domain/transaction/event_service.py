"""Transaction events (2.x model): Started/Updated/Ended with seqNos, deduplicated, any order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from joule.domain.authorization.rules import Decision
from joule.domain.authorization.service import authorize_token
from joule.domain.command import reservation_state
from joule.domain.events import TransactionEnded, TransactionStarted, TransactionUpdated
from joule.domain.metering.rules import QUIRK_IMPLAUSIBLE_TIMESTAMP, QUIRK_METER_RESET
from joule.domain.metering.service import (
    MeterOutcome,
    MeterReading,
    record_readings,
    station_time,
)
from joule.domain.transaction.lifecycle import (
    ACTIVE,
    SeqNoState,
    as_utc,
    energy_wh,
    event_key,
    format_missing,
)
from joule.domain.transaction.service import close
from joule.storage.models import Transaction
from joule.storage.repositories import token as tokens
from joule.storage.repositories import transaction as transactions
from joule.storage.uow import UnitOfWork

STARTED = "Started"
UPDATED = "Updated"
ENDED = "Ended"
_BEGIN = "Transaction.Begin"
_END = "Transaction.End"


@dataclass(frozen=True, slots=True)
class TransactionEventFacts:
    """One transaction event as the station reported it, version-neutral."""

    event_type: str  # Started | Updated | Ended
    timestamp: str
    trigger_reason: str
    seq_no: int
    transaction_uid: str  # the station's transactionId
    offline: bool = False
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    readings: Sequence[MeterReading] = ()


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What recording an event did, and the verdict on its idToken when it carried one."""

    transaction_pk: int
    decision: Decision | None
    duplicate: bool
    quirks: tuple[str, ...] = ()


async def record_event(
    uow: UnitOfWork,
    facts: TransactionEventFacts,
    *,
    station_id: str,
    payload: dict[str, Any],
    assume_tz: str | None,
    received_at: datetime,
    external: Decision | None = None,
) -> EventOutcome:
    """Apply one transaction event; a retry (same key, new messageId) stores nothing (sc. 6)."""
    session = uow.session
    when = station_time(facts.timestamp, assume_tz=assume_tz, received_at=received_at)
    quirks = [QUIRK_IMPLAUSIBLE_TIMESTAMP] if when.implausible else []
    tx = await transactions.get_by_uid(session, station_id, facts.transaction_uid)
    if tx is None:
        if facts.event_type == STARTED and facts.evse_id is not None:
            await _mark_stale(uow, station_id, facts.evse_id, at=received_at)
        # Updated/Ended may arrive before Started (scenario 8): the first event creates it.
        tx = await transactions.create_transaction(
            session,
            station_id=station_id,
            transaction_uid=facts.transaction_uid,
            at=received_at,
            evse_id=facts.evse_id,
            connector_id=facts.connector_id,
            started_at=when.at,  # provisional until Started arrives
        )
    elif await _is_repeat(uow, tx, facts, when.sent):
        decision = await _verify(
            uow, tx, facts, received_at=received_at, record=False, external=external
        )
        return EventOutcome(tx.id, decision, duplicate=True)
    transactions.add_event(
        session,
        transaction_pk=tx.id,
        seq_no=facts.seq_no,
        event_type=facts.event_type,
        trigger_reason=facts.trigger_reason,
        timestamp=as_utc(when.sent),
        offline=facts.offline,
        received_at=received_at,
        payload=payload,
    )
    before = SeqNoState.from_json(tx.seq_nos)
    after = before.with_event(facts.seq_no, facts.event_type)
    tx.seq_nos = after.to_json()
    # E §1.3.2: incomplete while a seqNo between Started and Ended is missing (held from billing).
    tx.missing_seq_nos = format_missing(after.gaps)
    _copy_details(tx, facts)
    if facts.reservation_id is not None:
        # H03: a transaction on a reservation uses it up.
        await reservation_state.mark_used(
            session,
            station_id=station_id,
            reservation_id=facts.reservation_id,
            transaction_pk=tx.id,
            at=received_at,
        )
    decision = await _verify(
        uow, tx, facts, received_at=received_at, record=True, external=external
    )
    meter = record_readings(
        uow,
        station_id=station_id,
        evse_id=facts.evse_id if facts.evse_id is not None else (tx.evse_id or 0),
        connector_id=facts.connector_id if facts.connector_id is not None else tx.connector_id,
        readings=facts.readings,
        attach=lambda _: tx,
        assume_tz=assume_tz,
        received_at=received_at,
    )
    quirks.extend(q for q in meter.quirks if q not in quirks)
    _take_meter_start(tx, meter, first_started=facts.event_type == STARTED)
    _place_start(uow, tx, facts, at=when.at, started_before=before.started is not None)
    if facts.event_type == ENDED and tx.status == ACTIVE:
        reset = _end(uow, tx, facts, meter, at=when.at, received_at=received_at)
        if reset and QUIRK_METER_RESET not in quirks:
            quirks.append(QUIRK_METER_RESET)
    elif facts.event_type == UPDATED and tx.status == ACTIVE:
        uow.emit(
            TransactionUpdated(
                transaction_pk=tx.id, station_id=tx.station_id, energy_wh=energy_wh(tx), at=when.at
            )
        )
    tx.updated_at = received_at
    return EventOutcome(tx.id, decision, duplicate=False, quirks=tuple(quirks))


async def _mark_stale(uow: UnitOfWork, station_id: str, evse_id: int, *, at: datetime) -> None:
    """Q23: a new transaction on an EVSE whose previous one never ended marks that one stale.

    Events are delivered in order (E04.FR.01/02), so its Ended was lost; it is kept, not closed,
    and a late Ended still closes it.
    """
    for old in await transactions.active_on_evse(uow.session, station_id, evse_id):
        old.stale = True
        old.updated_at = at


async def _is_repeat(
    uow: UnitOfWork, tx: Transaction, facts: TransactionEventFacts, sent: datetime
) -> bool:
    """P4 §4.1.4: a retry has a new messageId; the key is (transaction, seqNo, type, time).

    The transaction in the key keeps two transactions that both start at seqNo 0 apart.
    """
    key = event_key(tx.id, facts.seq_no, facts.event_type, sent)
    return await transactions.event_seen(
        uow.session,
        transaction_pk=key.transaction_pk,
        seq_no=key.seq_no,
        event_type=key.event_type,
        timestamp=key.timestamp,
    )


def _place_start(
    uow: UnitOfWork,
    tx: Transaction,
    facts: TransactionEventFacts,
    *,
    at: datetime,
    started_before: bool,
) -> None:
    """Started fixes the start time (once); before it, the earliest event is the estimate."""
    if facts.event_type == STARTED and not started_before:
        # The Started event's own time wins over any provisional start (offline: scenario 7).
        tx.started_at = at
        uow.emit(
            TransactionStarted(
                transaction_pk=tx.id,
                station_id=tx.station_id,
                evse_id=tx.evse_id,
                id_token=tx.id_token,
                at=at,
            )
        )
    elif not started_before and tx.started_at is not None and at < as_utc(tx.started_at):
        tx.started_at = at


def _end(
    uow: UnitOfWork,
    tx: Transaction,
    facts: TransactionEventFacts,
    meter: MeterOutcome,
    *,
    at: datetime,
    received_at: datetime,
) -> bool:
    """Close on Ended (once); returns True when the register went backwards (flagged)."""
    stop = _meter_stop(meter)
    energy = close(
        tx,
        stopped_at=at,
        meter_stop_wh=stop if stop is not None else tx.last_meter_wh,
        reason=facts.stopped_reason,
        at=received_at,
    )
    uow.emit(
        TransactionEnded(
            transaction_pk=tx.id,
            station_id=tx.station_id,
            energy_wh=energy.wh,
            stop_reason=tx.stop_reason,
            at=at,
        )
    )
    return energy.meter_reset


def _copy_details(tx: Transaction, facts: TransactionEventFacts) -> None:
    """Carry what the event says about the transaction; absent fields keep what we know."""
    if facts.evse_id is not None:
        tx.evse_id = facts.evse_id
    if facts.connector_id is not None:
        tx.connector_id = facts.connector_id
    if facts.charging_state is not None:
        tx.charging_state = facts.charging_state
    if facts.remote_start_id is not None:
        tx.remote_start_id = facts.remote_start_id
    if facts.reservation_id is not None:
        tx.reservation_id = facts.reservation_id
    if facts.offline:
        tx.offline = True  # E04.FR.03: delivered after the station was offline


async def _verify(
    uow: UnitOfWork,
    tx: Transaction,
    facts: TransactionEventFacts,
    *,
    received_at: datetime,
    record: bool,
    external: Decision | None = None,
) -> Decision | None:
    """E05.FR.01: re-verify a presented idToken; a refusal keeps the data (E05.FR.02)."""
    if facts.id_token is None:
        return None
    session = uow.session
    token = await tokens.get_token(session, facts.id_token)
    uid = token.uid if token is not None else facts.id_token
    # The token that first appears on a transaction starts it (ConcurrentTx applies); a later
    # one, e.g. the StopAuthorized token of an Ended event, is only checked. A repeated event is
    # judged as its original was: the transaction's own token, counted without the transaction.
    first = tx.id_token is None if record else tx.id_token == uid
    decision = await authorize_token(
        session,
        token,
        now=received_at,
        for_start=first and facts.event_type != ENDED,
        exclude_tx=tx.id,
        presented_type=facts.id_token_type,
        # The starting token is judged at this place and time (issue 5 access rules); a later
        # one (a stop by another card) is only checked, so a session never ends as refused.
        station_id=tx.station_id if first else None,
        evse_id=facts.evse_id if facts.evse_id is not None else tx.evse_id,
        # The hook judged the token that starts the transaction (hook.presented).
        external=external if first else None,
    )
    if record and tx.id_token is None:
        tx.id_token = uid
        tx.id_token_type = facts.id_token_type
        tx.auth_status = decision.status
        tx.auth_reason = decision.reason[:200]
    return decision


def _take_meter_start(tx: Transaction, meter: MeterOutcome, *, first_started: bool) -> None:
    """Meter start: Started's first register (or any Transaction.Begin reading) when unknown."""
    if tx.meter_start_wh is not None or not meter.registers:
        return
    begin = next((r for r in meter.registers if r.context == _BEGIN), None)
    if begin is None and first_started:
        begin = meter.registers[0]
    if begin is None:
        return
    tx.meter_start_wh = begin.wh
    if tx.last_meter_wh is None:
        tx.last_meter_wh = begin.wh
        tx.last_meter_at = begin.at


def _meter_stop(meter: MeterOutcome) -> Decimal | None:
    """Meter stop: the Transaction.End register reading of Ended, else its last register."""
    if not meter.registers:
        return None
    end = next((r for r in reversed(meter.registers) if r.context == _END), None)
    return (end or meter.registers[-1]).wh
