"""Network figures for the operator console: power now, recent power/energy of a station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, transaction_condition
from joule.domain.station.intervals import utc
from joule.storage.models import MeterValue, Transaction

POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"


async def power_now(session: AsyncSession, *, scope: Scope | None = None) -> Decimal:
    """Σ of the latest Power.Active.Import (W) of every active, not stale transaction (of the
    stations inside `scope`, when given: an operator's network is its subtree, issue 5)."""
    active = select(Transaction.id).where(
        Transaction.status == "active", Transaction.stale.is_(False)
    )
    if scope is not None:
        active = active.where(transaction_condition(scope))
    # MeterValue.power_w: the reading's whole-EVSE (no phase, outlet) power, normalised to W.
    latest = (
        select(MeterValue.transaction_pk, func.max(MeterValue.timestamp).label("ts"))
        .where(MeterValue.power_w.is_not(None), MeterValue.transaction_pk.in_(active))
        .group_by(MeterValue.transaction_pk)
        .subquery()
    )
    rows = await session.execute(
        select(MeterValue.transaction_pk, MeterValue.power_w)
        .join(
            latest,
            (MeterValue.transaction_pk == latest.c.transaction_pk)
            & (MeterValue.timestamp == latest.c.ts),
        )
        .where(MeterValue.power_w.is_not(None))
    )
    # One value per transaction even when two readings share the newest timestamp.
    per_tx: dict[int | None, Decimal] = {}
    for pk, value in rows.all():
        per_tx[pk] = value if value is not None else Decimal(0)
    return sum(per_tx.values(), Decimal(0))


@dataclass(frozen=True, slots=True)
class Sample:
    """One point of a station's power or energy line."""

    at: datetime
    evse_id: int
    transaction_pk: int | None
    measurand: str
    value: Decimal


async def station_samples(
    session: AsyncSession, station_id: str, *, since: datetime, limit: int = 2000
) -> list[Sample]:
    """The station's whole-EVSE power and energy samples since `since`, oldest first."""
    rows = await session.execute(
        select(
            MeterValue.timestamp,
            MeterValue.evse_id,
            MeterValue.transaction_pk,
            MeterValue.power_w,
            MeterValue.energy_wh,
        )
        .where(
            MeterValue.station_id == station_id,
            MeterValue.timestamp >= since,
            (MeterValue.power_w.is_not(None)) | (MeterValue.energy_wh.is_not(None)),
        )
        .order_by(MeterValue.timestamp.desc(), MeterValue.id.desc())
        .limit(limit)
    )
    found: list[Sample] = []
    for at, evse_id, tx_pk, power_w, energy_wh in rows.all():
        # Newest first here; each reading gives its energy, then its power (reversed below).
        if energy_wh is not None:
            found.append(Sample(utc(at), evse_id, tx_pk, ENERGY, energy_wh))
        if power_w is not None:
            found.append(Sample(utc(at), evse_id, tx_pk, POWER, power_w))
    found.reverse()
    return found[-limit:]
