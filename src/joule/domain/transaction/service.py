"""Transaction service: start and stop (1.6 model), version-neutral intent verbs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from joule.domain.authorization.rules import Decision
from joule.domain.authorization.service import authorize, authorize_token
from joule.domain.command import reservation_state
from joule.domain.events import TransactionEnded, TransactionStarted
from joule.domain.metering.rules import (
    QUIRK_IMPLAUSIBLE_METER_VALUE,
    QUIRK_IMPLAUSIBLE_TIMESTAMP,
    QUIRK_METER_RESET,
    plausible_register,
)
from joule.domain.metering.service import (
    MeterReading,
    advance_register,
    record_readings,
    station_time,
)
from joule.domain.transaction.lifecycle import (
    COMPLETED,
    DEFAULT_STOP_REASON,
    Energy,
    StartKey,
    session_energy,
    start_key,
)
from joule.storage.models import Transaction
from joule.storage.repositories import token as tokens
from joule.storage.repositories import transaction as transactions
from joule.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class StartOutcome:
    """The transaction a start created (or found again, for a retry) and the token's status."""

    transaction_pk: int
    decision: Decision
    created: bool
    quirks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StopOutcome:
    """What a stop did: closed, a repeat of a stop already done, or parked (unknown id)."""

    decision: Decision | None
    closed: bool
    duplicate: bool
    parked: bool
    quirks: tuple[str, ...] = ()


async def start(
    uow: UnitOfWork,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int | None,
    id_token: str,
    meter_start_wh: Decimal,
    timestamp: str,
    reservation_id: int | None,
    assume_tz: str | None,
    received_at: datetime,
    external: Decision | None = None,
) -> StartOutcome:
    """Start a transaction the station reports; a repeat returns the same one (scenario 2)."""
    session = uow.session
    when = station_time(timestamp, assume_tz=assume_tz, received_at=received_at)
    quirks = (QUIRK_IMPLAUSIBLE_TIMESTAMP,) if when.implausible else ()
    meter_start = _plausible(meter_start_wh)
    if meter_start is None:
        quirks = (*quirks, QUIRK_IMPLAUSIBLE_METER_VALUE)
    token = await tokens.get_token(session, id_token)
    # Tags are case-insensitive (CiString20): the transaction carries the uid on file.
    uid = token.uid if token is not None else id_token
    key = start_key(station_id, evse_id, uid, when.at, meter_start)
    existing = await _find_repeat(uow, key, time_is_real=not when.implausible)
    if existing is not None:
        # C16 §3.7.1: the station did not get our answer and sent it again: same id, nothing new.
        decision = await authorize_token(
            session,
            token,
            now=received_at,
            for_start=True,
            exclude_tx=existing.id,
            station_id=station_id,
            evse_id=evse_id,
            external=external,
        )
        return StartOutcome(existing.id, decision, created=False, quirks=quirks)
    # Q23 / scenario 11: a new start on a connector that still has an active transaction means
    # the old one ended unseen (reboot). Keep it, mark it stale; a late stop still closes it.
    for old in await transactions.active_on_evse(session, station_id, evse_id):
        old.stale = True
        old.updated_at = received_at
    # C16 §4.8: re-verify the tag, but always answer with a transactionId.
    decision = await authorize_token(
        session,
        token,
        now=received_at,
        for_start=True,
        exclude_tx=None,
        station_id=station_id,
        evse_id=evse_id,
        external=external,
    )
    tx = await transactions.create_transaction(
        session,
        station_id=station_id,
        transaction_uid=None,  # 1.6: our integer id is the transactionId
        at=received_at,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=uid,
        id_token_type=token.type if token is not None else None,
        auth_status=decision.status,
        started_at=when.at,  # C16 §3.7: an offline start hours ago keeps its own time
        meter_start_wh=meter_start,
        reservation_id=reservation_id,
    )
    tx.auth_reason = decision.reason[:200]  # 1.6 says only Invalid / Blocked; this says why
    if reservation_id is not None:
        # C16 §5.13: a start with the reservationId ends the reservation (used).
        await reservation_state.mark_used(
            session,
            station_id=station_id,
            reservation_id=reservation_id,
            transaction_pk=tx.id,
            at=received_at,
        )
    uow.emit(
        TransactionStarted(
            transaction_pk=tx.id, station_id=station_id, evse_id=evse_id, id_token=uid, at=when.at
        )
    )
    return StartOutcome(tx.id, decision, created=True, quirks=quirks)


def _plausible(wh: Decimal) -> Decimal | None:
    # An absurd meterStart/meterStop (negative, ≥ 1 PWh) is kept out of the energy columns; the
    # transaction still starts and stops (C16 §4.8, §4.10), the quirk is counted.
    return wh if plausible_register(wh) else None


async def _find_repeat(uow: UnitOfWork, key: StartKey, *, time_is_real: bool) -> Transaction | None:
    session = uow.session
    if time_is_real:
        return await transactions.find_started(
            session,
            station_id=key.station_id,
            evse_id=key.evse_id,
            id_token=key.id_token,
            started_at=key.started_at,
            meter_start_wh=key.meter_start_wh,
        )
    # Q8: with a 1970 timestamp the start time is our receive time, which differs on a retry;
    # the same tag and meterStart on the same connector while still active is the same start.
    for tx in await transactions.active_on_evse(session, key.station_id, key.evse_id):
        if tx.id_token == key.id_token and tx.meter_start_wh == key.meter_start_wh:
            return tx
    return None


async def stop(
    uow: UnitOfWork,
    *,
    station_id: str,
    transaction_pk: int,
    id_token: str | None,
    meter_stop_wh: Decimal,
    timestamp: str,
    reason: str | None,
    readings: Sequence[MeterReading],
    payload: dict[str, Any],
    assume_tz: str | None,
    received_at: datetime,
) -> StopOutcome:
    """Close a transaction the station stopped; unknown ids are parked, repeats change nothing."""
    session = uow.session
    decision = None
    if id_token is not None:
        decision = await authorize(
            session, id_token=id_token, now=received_at, for_start=False, exclude_tx=None
        )
    tx = await transactions.get_station_transaction(session, station_id, transaction_pk)
    if tx is None:
        # Q18 / scenario 12: never refuse a stop (C16 §4.10); keep it for reconciliation.
        await transactions.park_message(
            session,
            station_id=station_id,
            action="StopTransaction",
            reason=f"unknown transactionId {transaction_pk}",
            payload=payload,
            at=received_at,
        )
        return StopOutcome(decision, closed=False, duplicate=False, parked=True)
    if tx.status == COMPLETED:
        # Scenario 5 / Q20: a retried stop is answered, its meter values are not stored again.
        return StopOutcome(decision, closed=False, duplicate=True, parked=False)
    when = station_time(timestamp, assume_tz=assume_tz, received_at=received_at)
    quirks = [QUIRK_IMPLAUSIBLE_TIMESTAMP] if when.implausible else []
    outcome = record_readings(
        uow,
        station_id=station_id,
        evse_id=tx.evse_id if tx.evse_id is not None else 0,
        connector_id=tx.connector_id,
        readings=readings,
        attach=lambda _: tx,
        assume_tz=assume_tz,
        received_at=received_at,
    )
    quirks.extend(q for q in outcome.quirks if q not in quirks)
    meter_stop = _plausible(meter_stop_wh)
    quirk: str | None = QUIRK_IMPLAUSIBLE_METER_VALUE
    if meter_stop is not None:
        quirk, _ = advance_register(tx, meter_stop, when.at)
    energy = close(tx, stopped_at=when.at, meter_stop_wh=meter_stop, reason=reason, at=received_at)
    for q in (quirk, QUIRK_METER_RESET if energy.meter_reset else None):
        if q is not None and q not in quirks:
            quirks.append(q)
    uow.emit(
        TransactionEnded(
            transaction_pk=tx.id,
            station_id=station_id,
            energy_wh=energy.wh,
            stop_reason=tx.stop_reason,
            at=when.at,
        )
    )
    return StopOutcome(decision, closed=True, duplicate=False, parked=False, quirks=tuple(quirks))


def close(
    tx: Transaction,
    *,
    stopped_at: datetime,
    meter_stop_wh: Decimal | None,
    reason: str | None,
    at: datetime,
) -> Energy:
    """Mark a transaction completed and return its session energy."""
    tx.stopped_at = stopped_at
    tx.meter_stop_wh = meter_stop_wh
    tx.stop_reason = reason or DEFAULT_STOP_REASON
    tx.status = COMPLETED
    tx.stale = False
    tx.updated_at = at
    return session_energy(tx.meter_start_wh, meter_stop_wh, tx.last_meter_wh)
