"""Station-side SQL: stations, boots, connectors, status history, notifications. Never commits."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert, inspect, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from joule.storage import inline_sql
from joule.storage.models import (
    BootRecord,
    ConnectionAudit,
    Connector,
    DataTransferRecord,
    Evse,
    SecurityEvent,
    Station,
    StationReport,
    StatusInterval,
    Transaction,
)
from joule.storage.uow import UnitOfWork, identity_key


async def get_station(session: AsyncSession, station_id: str) -> Station | None:
    """The station row (from the session's identity map when already loaded)."""
    return await session.get(Station, station_id)


_ACCESS_COLUMNS = (
    Station.id.label("station_id"),
    Station.registration,
    Station.password_hash,
    Station.security_profile,
    Station.min_security_profile,
    Station.boot_status,
    Station.timezone,
    Station.assume_subprotocol,
    Station.lenient,
)
# Built once (like meter_state._SELECT): a statement built per call left ~10 objects per connect
# that only the cyclic collector frees (T7, T8); a reused one only hits the compiled cache.
_ACCESS_SELECT = select(*_ACCESS_COLUMNS).where(Station.id.in_(bindparam("ids", expanding=True)))


async def access_rows(
    session: AsyncSession | UnitOfWork, station_ids: Collection[str]
) -> list[Row[Any]]:
    """What the gateway checks at a connect, for many stations in one Core query (no ORM object).

    Columns in StationAccess order: id, registration, password_hash, security_profile,
    min_security_profile, boot_status, timezone, assume_subprotocol, lenient.
    """
    if not station_ids:
        return []
    ids = sorted(set(station_ids))
    return list(await _core(session, _ACCESS_SELECT, {"ids": ids}))


# uow.lean key prefix: a station's access row (or None) as the batch's preload read it.
_ACCESS = "station.access"


async def load_access_rows(uow: UnitOfWork, station_ids: Collection[Any]) -> None:
    """The access rows of a batch's registering stations in one query (a BatchLoader, T7)."""
    wanted = [sid for sid in station_ids if (_ACCESS, sid) not in uow.lean]
    if not wanted:
        return
    found = {row[0]: row for row in await access_rows(uow, wanted)}
    for sid in wanted:
        uow.lean[(_ACCESS, sid)] = found.get(sid)


async def batch_access_row(uow: UnitOfWork, station_id: str) -> Row[Any] | None:
    """A station's access row: from the batch's preload, else read now."""
    key = (_ACCESS, station_id)
    if key not in uow.lean:
        await load_access_rows(uow, (station_id,))
    row: Row[Any] | None = uow.lean[key]
    return row


async def create_station(
    session: AsyncSession,
    *,
    station_id: str,
    registration: str,
    security_profile: int,
    at: datetime,
) -> Station:
    """Add a station row and flush it (so rows referring to it can follow)."""
    station = Station(
        id=station_id,
        registration=registration,
        security_profile=security_profile,
        min_security_profile=0,
        online=False,
        quirks={},
        created_at=at,
    )
    session.add(station)
    await session.flush()
    return station


_NEW_STATIONS = "stations.new"


_NEW_STATION_COLUMNS = (
    "id",
    "registration",
    "security_profile",
    "min_security_profile",
    "online",
    "quirks",
    "created_at",
)


@functools.cache
def _insert_or_keep(dialect: str) -> Executable:
    """INSERT of station rows that leaves a row already there as it is (both dialects); built
    once per dialect, so inline_sql runs it on SQLite's driver directly (T7)."""
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in _NEW_STATION_COLUMNS}
    if dialect == "postgresql":
        return pg_insert(Station).values(values).on_conflict_do_nothing(index_elements=["id"])
    return sqlite_insert(Station).values(values).on_conflict_do_nothing(index_elements=["id"])


def queue_new_station(
    uow: UnitOfWork, *, station_id: str, registration: str, security_profile: int, at: datetime
) -> None:
    """Add a station row at flush: one statement for a storm's batch of unknown stations, no ORM
    object (T7). A row that exists by then (another node registered the station first) is kept."""
    rows: dict[str, dict[str, Any]] = uow.lean.setdefault(_NEW_STATIONS, {})
    rows.setdefault(
        station_id,
        {
            "id": station_id,
            "registration": registration,
            "security_profile": security_profile,
            "min_security_profile": 0,
            "online": False,
            "quirks": {},
            "created_at": at,
        },
    )
    uow.on_flush(_NEW_STATIONS, _insert_new_stations)


async def _insert_new_stations(uow: UnitOfWork) -> None:
    rows: dict[str, dict[str, Any]] = uow.lean.pop(_NEW_STATIONS, {})
    if rows:
        connection = await uow.connection()
        await inline_sql.execute_many(
            connection,
            _insert_or_keep(connection.dialect.name),
            [{f"b_{name}": row[name] for name in _NEW_STATION_COLUMNS} for row in rows.values()],
        )


def add_boot_record(
    uow: UnitOfWork,
    *,
    station_id: str,
    at: datetime,
    reason: str | None,
    status: str,
    payload: dict[str, Any],
) -> None:
    """Keep one BootNotification in the boot history (a bulk row: written at flush, no ORM)."""
    uow.bulk_insert(
        BootRecord,
        [
            {
                "station_id": station_id,
                "at": at,
                "reason": reason,
                "status": status,
                "payload": payload,
            }
        ],
    )


async def _core(
    session: AsyncSession | UnitOfWork, statement: Executable, parameters: dict[str, Any]
) -> CursorResult[Any]:
    """Run a Core statement on the session's connection: no ORM layer and no autoflush (a
    Session.execute would flush the whole batch's pending changes first, T7). Only for statements
    no pending ORM change of the transaction bears on: callers say why. Given the unit of work,
    its connection is asked of the session once per unit (UnitOfWork.connection)."""
    connection = await session.connection()
    return await connection.execute(statement, parameters)


_TRANSACTIONS: Table = Transaction.__table__  # type: ignore[assignment]
_MARK_STALE = (
    update(_TRANSACTIONS)
    .where(
        _TRANSACTIONS.c.station_id == bindparam("b_station"),
        _TRANSACTIONS.c.status == "active",
        _TRANSACTIONS.c.stale.is_(False),
    )
    .values(stale=True, updated_at=bindparam("b_at"))
)


def _unflushed_transaction(sync: Session, station_id: str) -> bool:
    """Whether one of the station's transactions has changes not yet flushed in this session."""
    if any(isinstance(obj, Transaction) and obj.station_id == station_id for obj in sync.new):
        return True
    # The modified states Session.dirty is built from, without building it (once per boot).
    modified = getattr(sync.identity_map, "_modified", None)
    states = modified if modified is not None else [inspect(o) for o in sync.dirty]
    return any(
        state.class_ is Transaction and state.dict.get("station_id") == station_id
        for state in states
    )


# uow.lean key prefix: whether a station had an active, not stale transaction at the batch's start.
_OPEN_TX = "station.open_tx"
_OPEN_TX_STATIONS = (
    select(_TRANSACTIONS.c.station_id)
    .where(
        _TRANSACTIONS.c.station_id.in_(bindparam("ids", expanding=True)),
        _TRANSACTIONS.c.status == "active",
        _TRANSACTIONS.c.stale.is_(False),
    )
    .distinct()
)


async def load_open_transactions(uow: UnitOfWork, station_ids: Collection[Any]) -> None:
    """Which of a batch's booting stations have an open transaction: one query for the batch,
    so a boot storm's stations (none open) need no UPDATE each (T7). A BatchLoader."""
    wanted = [sid for sid in station_ids if (_OPEN_TX, sid) not in uow.lean]
    if not wanted:
        return
    connection = await uow.connection()
    found = {
        row[0] for row in await inline_sql.fetch(connection, _OPEN_TX_STATIONS, {"ids": wanted})
    }
    for sid in wanted:
        uow.lean[(_OPEN_TX, sid)] = sid in found


async def mark_open_transactions_stale(uow: UnitOfWork, station_id: str, at: datetime) -> int:
    """Flag the station's still-active transactions as stale (scenario 11); returns how many.

    A Core UPDATE (no flush of the whole batch first, T7); when it changed rows (rare: a boot
    with a transaction open), rows this session already loaded get the new values too. When one
    of the station's transactions has unflushed changes, the ORM statement runs instead (it
    flushes them first: the outcome depends on them).
    """
    session = uow.session
    sync = session.sync_session
    if uow.lean.get((_OPEN_TX, station_id)) is False and not any(
        tx.station_id == station_id for tx in uow.added_objects(Transaction)
    ):
        # The batch's preload found none open and this transaction started none since: no SQL.
        return 0
    if _unflushed_transaction(sync, station_id):
        result = await session.execute(
            update(Transaction)
            .where(
                Transaction.station_id == station_id,
                Transaction.status == "active",
                Transaction.stale.is_(False),
            )
            .values(stale=True, updated_at=at)
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)
    result = await _core(uow, _MARK_STALE, {"b_station": station_id, "b_at": at})
    count = int(result.rowcount or 0)
    if count:
        for loaded in list(sync.identity_map.values()):
            # Loaded values only (state.dict): an attribute not loaded comes from the row later.
            values = inspect(loaded).dict
            if (
                isinstance(loaded, Transaction)
                and values.get("station_id") == station_id
                and values.get("status") == "active"
                and values.get("stale") is False
            ):
                set_committed_value(loaded, "stale", True)
                set_committed_value(loaded, "updated_at", at)
    return count


_EVSES: Table = Evse.__table__  # type: ignore[assignment]
_CONNECTORS: Table = Connector.__table__  # type: ignore[assignment]
_INTERVALS: Table = StatusInterval.__table__  # type: ignore[assignment]
# Core statements, compiled once: no ORM object, no flush, no autoflush (T7 boot storm).
_INSERT_EVSE = insert(_EVSES)
_INSERT_CONNECTOR = insert(_CONNECTORS)
_CLOSE_OPEN = (
    update(_INTERVALS)
    .where(
        _INTERVALS.c.station_id == bindparam("b_station"),
        _INTERVALS.c.evse_id == bindparam("b_evse"),
        _INTERVALS.c.connector_id == bindparam("b_connector"),
        _INTERVALS.c.ended_at.is_(None),
        _INTERVALS.c.started_at < bindparam("b_at"),
    )
    .values(ended_at=bindparam("b_at"))
)


# uow.lean key: connectors (and EVSEs) of first reports, inserted together at flush.
_NEW_CONNECTORS = "station.new_connectors"


@dataclass
class _NewConnectors:
    evses: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    connectors: list[dict[str, Any]] = field(default_factory=list)


def queue_connector(
    uow: UnitOfWork,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int,
    with_evse: bool,
    status: str | None,
    error_code: str | None,
    info: str | None,
    vendor_error_code: str | None,
    status_at: datetime | None,
) -> None:
    """Queue a connector known to be new (and its EVSE when `with_evse`) with its first status.

    Written at flush by two executemany INSERTs (EVSEs first: connectors refer to them), no ORM
    object (T7: two new connectors per booting station). Until then only record_status knows of
    them (station_state.StationParts).
    """
    queued: _NewConnectors = uow.lean.setdefault(_NEW_CONNECTORS, _NewConnectors())
    if with_evse:
        queued.evses[(station_id, evse_id)] = {"station_id": station_id, "evse_id": evse_id}
    queued.connectors.append(
        {
            "station_id": station_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "status": status,
            "error_code": error_code,
            "info": info,
            "vendor_error_code": vendor_error_code,
            "status_at": status_at,
        }
    )
    uow.on_flush(_NEW_CONNECTORS, _write_connectors)


async def _write_connectors(uow: UnitOfWork) -> None:
    queued: _NewConnectors | None = uow.lean.pop(_NEW_CONNECTORS, None)
    if queued is None:
        return
    # Every column given (inline_sql compiles the INSERT of all of them, once).
    connection = await uow.connection()
    if queued.evses:
        await inline_sql.execute_many(connection, _INSERT_EVSE, list(queued.evses.values()))
    if queued.connectors:
        await inline_sql.execute_many(connection, _INSERT_CONNECTOR, queued.connectors)


async def close_open_interval(
    uow: UnitOfWork, station_id: str, evse_id: int, connector_id: int, at: datetime
) -> None:
    """End the connector's open status interval at `at` (one that started before `at`).

    Core, no autoflush: the caller has no unflushed ORM change to this connector's history
    (record_status takes this path only for a connector's first report in the transaction).
    """
    await _core(
        uow,
        _CLOSE_OPEN,
        {"b_station": station_id, "b_evse": evse_id, "b_connector": connector_id, "b_at": at},
    )


def interval_row(
    *,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    started_at: datetime,
    ended_at: datetime | None,
) -> dict[str, Any]:
    """A status interval as a row for UnitOfWork.bulk_insert (written at flush, no ORM object)."""
    return {
        "station_id": station_id,
        "evse_id": evse_id,
        "connector_id": connector_id,
        "status": status,
        "error_code": error_code,
        "started_at": started_at,
        "ended_at": ended_at,
    }


def _interval_key(station_id: str, evse_id: int, connector_id: int) -> tuple[Any, ...]:
    return (
        StatusInterval.station_id == station_id,
        StatusInterval.evse_id == evse_id,
        StatusInterval.connector_id == connector_id,
    )


async def interval_at(
    session: AsyncSession, station_id: str, evse_id: int, connector_id: int, at: datetime
) -> StatusInterval | None:
    """The latest status interval starting at or before `at`."""
    return await session.scalar(
        select(StatusInterval)
        .where(*_interval_key(station_id, evse_id, connector_id), StatusInterval.started_at <= at)
        .order_by(StatusInterval.started_at.desc(), StatusInterval.id.desc())
        .limit(1)
    )


async def interval_after(
    session: AsyncSession, station_id: str, evse_id: int, connector_id: int, at: datetime
) -> StatusInterval | None:
    """The first status interval starting after `at`."""
    return await session.scalar(
        select(StatusInterval)
        .where(*_interval_key(station_id, evse_id, connector_id), StatusInterval.started_at > at)
        .order_by(StatusInterval.started_at.asc(), StatusInterval.id.asc())
        .limit(1)
    )


async def status_history(
    session: AsyncSession, station_id: str, evse_id: int, connector_id: int
) -> list[StatusInterval]:
    """Every status interval of one connector (evse 0 / connector 0: the station), oldest first."""
    rows = await session.scalars(
        select(StatusInterval)
        .where(*_interval_key(station_id, evse_id, connector_id))
        .order_by(StatusInterval.started_at.asc(), StatusInterval.id.asc())
    )
    return list(rows)


def add_interval(
    session: AsyncSession,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    started_at: datetime,
    ended_at: datetime | None,
) -> None:
    """Insert one status interval (the ORM way: the history path reads it back in the unit)."""
    row = interval_row(
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        status=status,
        error_code=error_code,
        started_at=started_at,
        ended_at=ended_at,
    )
    session.add(StatusInterval(**row))


def add_security_event(
    session: AsyncSession,
    *,
    station_id: str,
    type: str,
    timestamp: datetime,
    tech_info: str | None,
    critical: bool,
    received_at: datetime,
) -> None:
    """Keep one SecurityEventNotification."""
    session.add(
        SecurityEvent(
            station_id=station_id,
            type=type,
            timestamp=timestamp,
            tech_info=tech_info,
            critical=critical,
            received_at=received_at,
        )
    )


def add_data_transfer(
    session: AsyncSession,
    *,
    station_id: str,
    direction: str,
    vendor_id: str,
    message_id: str | None,
    data: str | None,
    status: str | None,
    at: datetime,
) -> None:
    """Keep one DataTransfer (its data already size-capped by the caller)."""
    session.add(
        DataTransferRecord(
            station_id=station_id,
            direction=direction,
            vendor_id=vendor_id,
            message_id=message_id,
            data=data,
            status=status,
            at=at,
        )
    )


def add_station_report(
    session: AsyncSession,
    *,
    station_id: str,
    action: str,
    request_id: int | None,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    """Keep one station-initiated notification as received."""
    session.add(
        StationReport(
            station_id=station_id, action=action, request_id=request_id, payload=payload, at=at
        )
    )


_STATIONS: Table = Station.__table__  # type: ignore[assignment]
_CONNECTED = (
    update(_STATIONS)
    .where(_STATIONS.c.id == bindparam("b_id"))
    .values(
        online=True,
        ocpp_version=bindparam("b_version"),
        connected_node=bindparam("b_node"),
        connected_at=bindparam("b_at"),
        # Never backwards: a connect written at flush may follow a later last-seen of the batch.
        last_seen=case(
            (
                or_(_STATIONS.c.last_seen.is_(None), _STATIONS.c.last_seen < bindparam("b_at")),
                bindparam("b_at"),
            ),
            else_=_STATIONS.c.last_seen,
        ),
        # A05.FR.07 / A00.FR.002: never allow a lower profile again once a higher one was used.
        min_security_profile=case(
            (
                func.coalesce(_STATIONS.c.min_security_profile, 0) < bindparam("b_profile"),
                bindparam("b_profile"),
            ),
            else_=func.coalesce(_STATIONS.c.min_security_profile, 0),
        ),
    )
)


# uow.lean key: what boots of this batch write to their stations' rows, by station.
_BOOTED = "station.booted"


def queue_boot_values(uow: UnitOfWork, station_id: str, values: Mapping[str, Any]) -> None:
    """Write a boot's columns of the station row at flush, one executemany per column set for
    the batch (no ORM change tracking, T7); a Station object the session holds gets the values
    at once.

    Only boots write these columns (identity, boot status, last boot), so no ORM change of the
    same columns can be flushed in between and come out in a different order.
    """
    sync_loaded(uow.session, station_id, values)
    booted: dict[str, dict[str, Any]] = uow.lean.setdefault(_BOOTED, {})
    booted.setdefault(station_id, {}).update(values)
    uow.on_flush(_BOOTED, _write_booted)


@functools.cache
def _boot_update(columns: tuple[str, ...]) -> Executable:
    return (
        update(_STATIONS)
        .where(_STATIONS.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in columns})
    )


async def _write_booted(uow: UnitOfWork) -> None:
    booted: dict[str, dict[str, Any]] = uow.lean.pop(_BOOTED, {})
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for station_id, values in booted.items():
        columns = tuple(sorted(values))
        row = {f"b_{name}": values[name] for name in columns}
        row["b_id"] = station_id
        groups.setdefault(columns, []).append(row)
    if groups:
        connection = await uow.connection()
        for columns, rows in groups.items():
            await inline_sql.execute_many(connection, _boot_update(columns), rows)


def sync_loaded(
    session: AsyncSession,
    station_id: str,
    values: Mapping[str, Any],
    *,
    raise_profile: int | None = None,
) -> None:
    """Give a Station object this session holds the values a Core UPDATE wrote (or will write
    at flush): nothing is read for it."""
    sync = session.sync_session
    loaded = sync.identity_map.get(identity_key(Station, station_id))
    if loaded is None:
        return
    for name, value in values.items():
        set_committed_value(loaded, name, value)
    known = inspect(loaded).dict  # loaded values only: one not loaded comes from the row later
    if raise_profile is not None and "min_security_profile" in known:
        profile = max(known["min_security_profile"] or 0, raise_profile)
        set_committed_value(loaded, "min_security_profile", profile)


async def set_connected(
    session: AsyncSession,
    *,
    station_id: str,
    ocpp_version: str,
    node: str,
    security_profile: int,
    at: datetime,
) -> bool:
    """Record that the station holds a socket on `node` now; False for no such station.

    One Core UPDATE, no ORM object and no flush (T8: a reconnect storm). Presence columns are
    written only by Core statements run in order (this, set_disconnected, the gateway's last-seen
    and start-up reset), so no unflushed ORM change can bear on it.
    """
    result = await _core(
        session,
        _CONNECTED,
        {
            "b_id": station_id,
            "b_version": ocpp_version,
            "b_node": node,
            "b_at": at,
            "b_profile": security_profile,
        },
    )
    if not result.rowcount:
        return False
    sync_loaded(
        session,
        station_id,
        _connected_values(ocpp_version, node, at),
        raise_profile=security_profile,
    )
    return True


def _connected_values(ocpp_version: str, node: str, at: datetime) -> dict[str, Any]:
    """What a connect sets on the station row (and on a loaded Station object)."""
    return {
        "online": True,
        "ocpp_version": ocpp_version,
        "connected_node": node,
        "connected_at": at,
        "last_seen": at,
    }


@functools.cache
def _disconnect_statement(by_node: bool, by_connected_at: bool) -> Executable:
    """The UPDATE of set_disconnected for the conditions given, built once."""
    columns = _STATIONS.c
    conditions: list[Any] = [
        columns.id == bindparam("b_id"),
        columns.online.is_(True),
        # A socket opened after this disconnect belongs to a newer connection: leave it online.
        or_(columns.connected_at.is_(None), columns.connected_at <= bindparam("b_at")),
    ]
    if by_node:
        conditions.append(columns.connected_node == bindparam("b_node"))
    if by_connected_at:
        conditions.append(columns.connected_at == bindparam("b_since"))
    return update(_STATIONS).where(*conditions).values(online=False, connected_node=None)


# uow.lean key: connects of this unit of work, written by one executemany at flush.
_CONNECTS = "station.connects"


def queue_connected(
    uow: UnitOfWork,
    *,
    station_id: str,
    ocpp_version: str,
    node: str,
    security_profile: int,
    at: datetime,
) -> None:
    """set_connected for the batch: one executemany of every connect at flush (T8). A disconnect
    in the same batch writes the queued connects first (write_connected), so their order holds."""
    rows: list[dict[str, Any]] = uow.lean.setdefault(_CONNECTS, [])
    rows.append(
        {
            "b_id": station_id,
            "b_version": ocpp_version,
            "b_node": node,
            "b_at": at,
            "b_profile": security_profile,
        }
    )
    uow.on_flush(_CONNECTS, write_connected)
    sync_loaded(
        uow.session,
        station_id,
        _connected_values(ocpp_version, node, at),
        raise_profile=security_profile,
    )


async def write_connected(uow: UnitOfWork) -> None:
    """Write the connects queued so far (at flush, or before a disconnect of the same batch)."""
    rows: list[dict[str, Any]] | None = uow.lean.pop(_CONNECTS, None)
    if rows:
        await inline_sql.execute_many(await uow.connection(), _CONNECTED, rows)


async def set_disconnected(
    session: AsyncSession,
    *,
    station_id: str,
    at: datetime,
    node: str | None,
    connected_at: datetime | None,
) -> bool:
    """Mark the station offline unless a later connection holds it; True when it was changed.

    One Core UPDATE, like set_connected (no flush, no ORM synchronisation query).
    """
    statement = _disconnect_statement(node is not None, connected_at is not None)
    parameters = {"b_id": station_id, "b_at": at, "b_node": node, "b_since": connected_at}
    result = await _core(session, statement, parameters)
    if not result.rowcount:
        return False
    sync_loaded(session, station_id, {"online": False, "connected_node": None})
    return True


# Core (not ORM) UPDATE, so a list of parameters runs as one executemany.
_TOUCH = (
    update(_STATIONS)
    .where(
        _STATIONS.c.id == bindparam("b_id"),
        or_(_STATIONS.c.last_seen.is_(None), _STATIONS.c.last_seen < bindparam("b_seen")),
    )
    .values(last_seen=bindparam("b_seen"))
)


async def touch_last_seen(session: AsyncSession, seen: Mapping[str, datetime]) -> None:
    """Move last_seen forward for many stations in one executemany (never backwards).

    Through inline_sql: every station that sent a frame is touched every half second, ~2 000
    rows a second in T2/T3, and Core's executemany (a processed dict per row) cost ~7 µs a row.
    """
    if not seen:
        return
    rows = [{"b_id": station_id, "b_seen": at} for station_id, at in sorted(seen.items())]
    await inline_sql.execute_many(await session.connection(), _TOUCH, rows)


def add_connection_audit(
    session: AsyncSession,
    *,
    station_id: str | None,
    remote: str | None,
    outcome: str,
    reason: str,
    at: datetime,
) -> None:
    """Keep one connection attempt worth auditing (no secrets ever reach this table)."""
    session.add(
        ConnectionAudit(
            station_id=station_id[:64] if station_id is not None else None,
            remote=remote[:64] if remote is not None else None,
            outcome=outcome[:16],
            reason=reason[:255],
            at=at,
        )
    )
