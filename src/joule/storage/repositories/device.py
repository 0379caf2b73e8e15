"""Device-model SQL: DeviceVariable rows (2.x variables, 1.6 configuration keys). Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import DeviceVariable

_TABLE: Table = DeviceVariable.__table__  # type: ignore[assignment]
_KEY = ("station_id", "component", "variable", "attribute_type")


@dataclass(frozen=True, slots=True)
class VariableRow:
    """One attribute value to store; mutability None leaves a stored mutability untouched."""

    component: str
    variable: str
    attribute_type: str
    value: str | None
    mutability: str | None


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(_TABLE)
    if dialect == "sqlite":
        return sqlite.insert(_TABLE)
    raise RuntimeError(f"no upsert for the {dialect} dialect")


async def upsert_variables(
    session: AsyncSession,
    *,
    station_id: str,
    rows: Iterable[VariableRow],
    at: datetime,
    value_only: bool = False,
) -> int:
    """Insert or update variable attributes in one statement; returns how many distinct rows.

    `value_only` updates only the value of existing rows (event data does not say mutability).
    """
    # A key may occur twice in one report; PostgreSQL refuses to touch a row twice in one
    # INSERT … ON CONFLICT, so the last occurrence wins here.
    unique: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        unique[(row.component[:160], row.variable[:160], row.attribute_type[:16])] = {
            "station_id": station_id,
            "component": row.component[:160],
            "variable": row.variable[:160],
            "attribute_type": row.attribute_type[:16],
            "value": row.value,
            "mutability": row.mutability[:16] if row.mutability is not None else None,
            "updated_at": at,
        }
    if not unique:
        return 0
    stmt = _insert(session.get_bind().dialect.name)
    changes: dict[str, Any] = {"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
    if not value_only:
        changes["mutability"] = stmt.excluded.mutability
    stmt = stmt.on_conflict_do_update(index_elements=list(_KEY), set_=changes)
    await session.execute(stmt, list(unique.values()))
    return len(unique)


async def list_variables(session: AsyncSession, station_id: str) -> list[DeviceVariable]:
    """Every stored variable attribute of a station, ordered by component and variable."""
    rows = await session.scalars(
        select(DeviceVariable)
        .where(DeviceVariable.station_id == station_id)
        .order_by(DeviceVariable.component, DeviceVariable.variable, DeviceVariable.attribute_type)
    )
    return list(rows)
