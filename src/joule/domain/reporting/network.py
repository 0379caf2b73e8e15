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
WHOLE = (None, "Outlet")  # the EVSE's own meter, all phases (not per phase, not the cable/EV side)


def _whole(measurand: str) -> tuple[object, ...]:
    return (
        MeterValue.measurand == measurand,
        MeterValue.phase.is_(None),
        (MeterValue.location.is_(None)) | (MeterValue.location == "Outlet"),
        MeterValue.value.is_not(None),
    )


async def power_now(session: AsyncSession, *, scope: Scope | None = None) -> Decimal:
    """Σ of the latest Power.Active.Import (W) of every active, not stale transaction (of the
    stations inside `scope`, when given: an operator's network is its subtree, issue 5)."""
    active = select(Transaction.id).where(
        Transaction.status == "active", Transaction.stale.is_(False)
    )
    if scope is not None:
        active = active.where(transaction_condition(scope))
    latest = (
        select(MeterValue.transaction_pk, func.max(MeterValue.timestamp).label("ts"))
        .where(*_whole(POWER), MeterValue.transaction_pk.in_(active))  # type: ignore[arg-type]
        .group_by(MeterValue.transaction_pk)
        .subquery()
    )
    rows = await session.execute(
        select(MeterValue.transaction_pk, MeterValue.value)
        .join(
            latest,
            (MeterValue.transaction_pk == latest.c.transaction_pk)
            & (MeterValue.timestamp == latest.c.ts),
        )
        .where(*_whole(POWER))  # type: ignore[arg-type]
    )
    # One value per transaction even when two samples share the newest timestamp.
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
    rows = await session.scalars(
        select(MeterValue)
        .where(
            MeterValue.station_id == station_id,
            MeterValue.timestamp >= since,
            MeterValue.measurand.in_((POWER, ENERGY)),
            MeterValue.phase.is_(None),
            MeterValue.value.is_not(None),
        )
        .order_by(MeterValue.timestamp.desc(), MeterValue.id.desc())
        .limit(limit)
    )
    found = [
        Sample(utc(r.timestamp), r.evse_id, r.transaction_pk, r.measurand, r.value)
        for r in rows
        if r.value is not None and r.location in WHOLE
    ]
    found.reverse()
    return found
