"""What boots and status reports read of a station and its connectors, without the ORM (T7).

A boot storm's station sends BootNotification and a StatusNotification per connector; each read
the station row, and each status its EVSE and connector rows, as ORM objects (~30 µs an object
on the bench machines, a third of a status report's CPU), and a first report's clock skew went
out through the ORM's flush. Here a batch reads the few columns these messages need in one Core
query per table (a station's connectors and EVSEs all at once: a station has a handful), keeps
them as plain states in the unit of work, and writes what moved in one executemany per kind at
flush. ADR 0017.

Only the station room's boot and status paths write the columns these states carry (a
connector's current status; a station's clock skew and boot identity), so no ORM change of the
same columns can be flushed in between and come out of order. A Station object the session
holds anyway (another handler of the batch loaded it) is given the written values at once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update

from joule.storage import inline_sql
from joule.storage.models import Connector, Evse, Station
from joule.storage.repositories.station import sync_loaded
from joule.storage.uow import UnitOfWork

_STATIONS: Table = Station.__table__  # type: ignore[assignment]
_CONNECTORS: Table = Connector.__table__  # type: ignore[assignment]
_EVSES: Table = Evse.__table__  # type: ignore[assignment]

_STATION = "station_state"  # uow.lean key prefix: a StationState, or None for no such row
_PARTS = "station_state.parts"  # uow.lean key prefix: a station's StationParts
_SKEWS = "station_state.skews"  # uow.lean key: clock skews to write at flush, by station
_CURRENT = "station_state.current"  # uow.lean key: connector statuses to write at flush


@dataclass(slots=True)
class StationState:
    """The station columns a boot or a status report reads."""

    id: str
    registration: str
    clock_skew_s: float | None  # as the model types it (Numeric: a Decimal is read)


@dataclass(slots=True)
class ConnectorState:
    """A connector's current status as its row holds it (naive UTC on SQLite)."""

    status: str | None
    error_code: str | None
    status_at: datetime | None


@dataclass(slots=True)
class StationParts:
    """A station's EVSEs and connectors: what exists (read, or queued in this batch)."""

    evses: set[int] = field(default_factory=set)
    connectors: dict[tuple[int, int], ConnectorState] = field(default_factory=dict)


# Built once (meter_state._SELECT): a statement built per batch costs SQLAlchemy expression work.
_SELECT_STATIONS = select(_STATIONS.c.id, _STATIONS.c.registration, _STATIONS.c.clock_skew_s).where(
    _STATIONS.c.id.in_(bindparam("ids", expanding=True))
)
_SELECT_CONNECTORS = select(
    _CONNECTORS.c.station_id,
    _CONNECTORS.c.evse_id,
    _CONNECTORS.c.connector_id,
    _CONNECTORS.c.status,
    _CONNECTORS.c.error_code,
    _CONNECTORS.c.status_at,
).where(_CONNECTORS.c.station_id.in_(bindparam("ids", expanding=True)))
_SELECT_EVSES = select(_EVSES.c.station_id, _EVSES.c.evse_id).where(
    _EVSES.c.station_id.in_(bindparam("ids", expanding=True))
)
_SET_SKEW = (
    update(_STATIONS)
    .where(_STATIONS.c.id == bindparam("b_id"))
    .values(clock_skew_s=bindparam("b_skew"))
)
_SET_CURRENT = (
    update(_CONNECTORS)
    .where(
        _CONNECTORS.c.station_id == bindparam("b_station"),
        _CONNECTORS.c.evse_id == bindparam("b_evse"),
        _CONNECTORS.c.connector_id == bindparam("b_connector"),
    )
    .values(
        status=bindparam("b_status"),
        error_code=bindparam("b_error"),
        info=bindparam("b_info"),
        vendor_error_code=bindparam("b_vendor_error"),
        status_at=bindparam("b_at"),
    )
)


async def load_stations(uow: UnitOfWork, station_ids: Collection[Any]) -> None:
    """The state of a batch's stations in one query (a BatchLoader)."""
    wanted = [sid for sid in station_ids if (_STATION, sid) not in uow.lean]
    if not wanted:
        return
    connection = await uow.connection()
    found = {
        row[0]: StationState(*row)
        for row in await inline_sql.fetch(connection, _SELECT_STATIONS, {"ids": wanted})
    }
    for sid in wanted:
        uow.lean[(_STATION, sid)] = found.get(sid)


async def station_state(uow: UnitOfWork, station_id: str) -> StationState | None:
    """The station's state (preloaded, else read now); None when it has no row."""
    key = (_STATION, station_id)
    if key not in uow.lean:
        await load_stations(uow, (station_id,))
    state: StationState | None = uow.lean[key]
    return state


def keep_station(uow: UnitOfWork, state: StationState) -> None:
    """Remember a station row this unit created (so later units of the batch find it)."""
    uow.lean[(_STATION, state.id)] = state


async def load_parts(uow: UnitOfWork, station_ids: Collection[Any]) -> None:
    """The EVSEs and connectors of a batch's stations: one query each (a BatchLoader)."""
    wanted = [sid for sid in station_ids if (_PARTS, sid) not in uow.lean]
    if not wanted:
        return
    parts = {sid: StationParts() for sid in wanted}
    connection = await uow.connection()
    for sid, evse_id in await inline_sql.fetch(connection, _SELECT_EVSES, {"ids": wanted}):
        parts[sid].evses.add(evse_id)
    for sid, evse_id, connector_id, *current in await inline_sql.fetch(
        connection, _SELECT_CONNECTORS, {"ids": wanted}
    ):
        parts[sid].connectors[(evse_id, connector_id)] = ConnectorState(*current)
    for sid, found in parts.items():
        uow.lean[(_PARTS, sid)] = found


async def station_parts(uow: UnitOfWork, station_id: str) -> StationParts:
    """The station's EVSEs and connectors (preloaded, else read now)."""
    key = (_PARTS, station_id)
    if key not in uow.lean:
        await load_parts(uow, (station_id,))
    parts: StationParts = uow.lean[key]
    return parts


def set_clock_skew(uow: UnitOfWork, state: StationState, skew: float) -> None:
    """Store the station's clock skew: written at flush with the batch's others."""
    state.clock_skew_s = skew
    skews: dict[str, float] = uow.lean.setdefault(_SKEWS, {})
    skews[state.id] = skew
    uow.on_flush(_SKEWS, _write_skews)
    sync_loaded(uow.session, state.id, {"clock_skew_s": skew})


async def _write_skews(uow: UnitOfWork) -> None:
    skews: dict[str, float] = uow.lean.pop(_SKEWS, {})
    if skews:
        rows = [{"b_id": sid, "b_skew": skew} for sid, skew in skews.items()]
        await inline_sql.execute_many(await uow.connection(), _SET_SKEW, rows)


def set_current(
    uow: UnitOfWork,
    station_id: str,
    evse_id: int,
    connector_id: int,
    state: ConnectorState,
    *,
    info: str | None,
    vendor_error_code: str | None,
) -> None:
    """Write a connector's current status (the state's values) at flush: the batch's last
    report of each connector, one executemany for the batch."""
    current: dict[tuple[str, int, int], dict[str, Any]] = uow.lean.setdefault(_CURRENT, {})
    current[(station_id, evse_id, connector_id)] = {
        "b_station": station_id,
        "b_evse": evse_id,
        "b_connector": connector_id,
        "b_status": state.status,
        "b_error": state.error_code,
        "b_info": info,
        "b_vendor_error": vendor_error_code,
        "b_at": state.status_at,
    }
    uow.on_flush(_CURRENT, _write_current)


async def _write_current(uow: UnitOfWork) -> None:
    current: dict[tuple[str, int, int], dict[str, Any]] = uow.lean.pop(_CURRENT, {})
    if current:
        await inline_sql.execute_many(await uow.connection(), _SET_CURRENT, list(current.values()))
