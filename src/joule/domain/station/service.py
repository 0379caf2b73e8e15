"""Station intent verbs: boots, status reports, clock skew, and the connection-level services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.events import ConnectorStatusChanged, StationBooted
from joule.domain.station import rules
from joule.domain.station.connection import (
    StationAccess,
    get_access,
    get_accesses,
    mark_connected,
    mark_disconnected,
    queue_connected,
    record_connection_audit,
    register_preload,
    register_unknown,
    touch_last_seen,
    write_connected,
)
from joule.domain.station.intervals import Span, plan_status, utc
from joule.ocpp.timestamps import ParsedTime
from joule.storage.models import Station, StatusInterval
from joule.storage.repositories import station as repo
from joule.storage.repositories import station_state as lean
from joule.storage.repositories.station_state import ConnectorState, StationState
from joule.storage.uow import UnitOfWork

__all__ = [
    "BootInfo",
    "StationAccess",
    "configure",
    "ensure_station",
    "get_access",
    "get_accesses",
    "intervals",
    "mark_connected",
    "mark_disconnected",
    "note_station_time",
    "queue_connected",
    "record_connection_audit",
    "record_status",
    "register_boot",
    "register_preload",
    "register_unknown",
    "touch_last_seen",
    "write_connected",
]

_intervals = rules.BootIntervals()


def configure(heartbeat_interval_s: int, pending_interval_s: int) -> None:
    """Set the intervals BootNotification answers carry (called by the runtime at start)."""
    global _intervals
    if heartbeat_interval_s <= 0 or pending_interval_s <= 0:
        raise ValueError("boot intervals must be positive seconds")
    _intervals = rules.BootIntervals(heartbeat_s=heartbeat_interval_s, pending_s=pending_interval_s)


def intervals() -> rules.BootIntervals:
    """The configured boot intervals."""
    return _intervals


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station tells about itself in a BootNotification, version-neutral."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


def _cap(value: str | None, size: int) -> str | None:
    return value[:size] if value is not None else None


async def ensure_station(session: AsyncSession, station_id: str, at: datetime) -> Station:
    """The station row; a station that talks without one is listed as pending for an operator."""
    station = await repo.get_station(session, station_id)
    if station is None:
        # Only reachable when the row vanished while connected: keep its data, let nothing in.
        station = await repo.create_station(
            session, station_id=station_id, registration="pending", security_profile=0, at=at
        )
    return station


async def _station_state(uow: UnitOfWork, station_id: str, at: datetime) -> StationState:
    """The station's lean state (preloaded with the batch, T7); its row created when missing."""
    state = await lean.station_state(uow, station_id)
    if state is None:
        station = await ensure_station(uow.session, station_id, at)
        state = StationState(station.id, station.registration, station.clock_skew_s)
        lean.keep_station(uow, state)
    return state


async def register_boot(
    uow: UnitOfWork,
    *,
    station_id: str,
    info: BootInfo,
    reason: str | None,
    payload: dict[str, Any],
    at: datetime,
) -> rules.BootAnswer:
    """Store a boot and answer it by the station's registration (B01–B03)."""
    station = await _station_state(uow, station_id, at)
    # Scenario 11 / Q23: a reboot is evidence, not proof, that open transactions ended. Never close
    # them here (the late StopTransaction must still be accepted); flag them for reconciliation.
    await repo.mark_open_transactions_stale(uow, station_id, at)
    values: dict[str, Any] = {
        "vendor": _cap(info.vendor, 64),
        "model": _cap(info.model, 64),
    }
    # Optional fields keep their last known value when a boot leaves them out.
    for attribute, value, size in (
        ("serial_number", info.serial_number, 64),
        ("firmware_version", info.firmware_version, 64),
        ("iccid", info.iccid, 32),
        ("imsi", info.imsi, 32),
        ("meter_type", info.meter_type, 64),
        ("meter_serial_number", info.meter_serial_number, 64),
    ):
        if value is not None:
            values[attribute] = _cap(value, size)
    answer = rules.boot_answer(station.registration, _intervals)
    # The gateway answers SecurityError to anything else until Accepted (B01.FR.10).
    values["boot_status"] = answer.status
    values["last_boot_at"] = at
    # One executemany for a storm's batch of boots, not an ORM UPDATE each (T7).
    repo.queue_boot_values(uow, station_id, values)
    repo.add_boot_record(
        uow,
        station_id=station_id,
        at=at,
        reason=_cap(reason, 32),
        status=answer.status,
        payload=payload,
    )
    uow.emit(StationBooted(station_id=station_id, status=answer.status, at=at))
    return answer


def _span(row: StatusInterval | None) -> Span | None:
    if row is None:
        return None
    return Span(
        status=row.status,
        error_code=row.error_code,
        started_at=utc(row.started_at),
        ended_at=utc(row.ended_at) if row.ended_at is not None else None,
    )


# Session.info key: connectors whose status this transaction already wrote (see record_status).
_REPORTED = "joule.station.reported"


async def record_status(
    uow: UnitOfWork,
    *,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
    info: str | None = None,
    vendor_error_code: str | None = None,
) -> None:
    """Record a status reported at `at`: current status plus non-overlapping history (Q27).

    evse 0 / connector 0 is the station as a whole (1.6 connectorId 0, scenario 46).

    The station's connectors are read as lean states with the batch (ADR 0017, T7 boot storm).
    Two cases need no read of the history: a connector's first report (history is only ever
    written after the connector row, so a new connector has none), and a report newer than the
    connector's last applied one (its open interval is then the latest and says the connector's
    current status). Both write without the ORM: rows queued for the flush (executemany) and,
    for a change, one Core UPDATE closing the open interval. Everything else (the station level,
    late or out-of-order reports, a second report of the same connector in one transaction)
    takes the full path: read the neighbouring intervals and plan.
    """
    session = uow.session
    at = utc(at)
    status = status[:32]
    error_code = _cap(error_code, 64)
    info, vendor_error_code = _cap(info, 255), _cap(vendor_error_code, 64)
    if evse_id == 0:
        station = uow.loaded(Station, station_id) or await ensure_station(session, station_id, at)
        await _record_history(
            uow, station, None, station_id, 0, connector_id, status, error_code, at
        )
        return
    await _station_state(uow, station_id, at)  # the row the EVSE and connector refer to
    parts = await lean.station_parts(uow, station_id)
    connector = parts.connectors.get((evse_id, connector_id))
    key = (station_id, evse_id, connector_id)
    reported: set[tuple[str, int, int]] = session.info.setdefault(_REPORTED, set())
    if connector is None:
        reported.add(key)
        _first_report(uow, parts, key, status, error_code, at, info, vendor_error_code)
        return
    if key in reported:
        # Its earlier report's rows may still be queued: write them before reading the history.
        await uow.flush()
    else:
        reported.add(key)
        if connector.status_at is not None and at > utc(connector.status_at):
            if (connector.status, connector.error_code) != (status, error_code):
                await repo.close_open_interval(uow, station_id, evse_id, connector_id, at)
                _open_interval(uow, station_id, evse_id, connector_id, status, error_code, at)
            _set_current(uow, key, connector, status, error_code, at, info, vendor_error_code)
            return
    current = await _record_history(
        uow, None, connector, station_id, evse_id, connector_id, status, error_code, at
    )
    if current:
        _set_current(uow, key, connector, status, error_code, at, info, vendor_error_code)


def _first_report(
    uow: UnitOfWork,
    parts: lean.StationParts,
    key: tuple[str, int, int],
    status: str,
    error_code: str | None,
    at: datetime,
    info: str | None,
    vendor_error_code: str | None,
) -> None:
    """A connector's first report: its row (and its EVSE's) with the status, one open interval."""
    station_id, evse_id, connector_id = key
    repo.queue_connector(
        uow,
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        with_evse=evse_id not in parts.evses,
        status=status,
        error_code=error_code,
        info=info,
        vendor_error_code=vendor_error_code,
        status_at=at,
    )
    parts.evses.add(evse_id)
    parts.connectors[(evse_id, connector_id)] = ConnectorState(status, error_code, at)
    _open_interval(uow, station_id, evse_id, connector_id, status, error_code, at)
    _changed(uow, station_id, evse_id, connector_id, status, error_code, at)


def _open_interval(
    uow: UnitOfWork,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
) -> None:
    uow.bulk_insert(
        StatusInterval,
        [
            repo.interval_row(
                station_id=station_id,
                evse_id=evse_id,
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                started_at=at,
                ended_at=None,
            )
        ],
    )


def _set_current(
    uow: UnitOfWork,
    key: tuple[str, int, int],
    connector: ConnectorState,
    status: str,
    error_code: str | None,
    at: datetime,
    info: str | None,
    vendor_error_code: str | None,
) -> None:
    changed = (connector.status, connector.error_code) != (status, error_code)
    connector.status, connector.error_code, connector.status_at = status, error_code, at
    station_id, evse_id, connector_id = key
    lean.set_current(
        uow,
        station_id,
        evse_id,
        connector_id,
        connector,
        info=info,
        vendor_error_code=vendor_error_code,
    )
    if changed:
        _changed(uow, station_id, evse_id, connector_id, status, error_code, at)


def _changed(
    uow: UnitOfWork,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
) -> None:
    uow.emit(
        ConnectorStatusChanged(
            station_id=station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=status,
            error_code=error_code,
            at=at,
        )
    )


async def _record_history(
    uow: UnitOfWork,
    station: Station | None,
    connector: ConnectorState | None,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None,
    at: datetime,
) -> bool:
    """The full path: read the neighbouring intervals, plan, write; True when now current.

    For the station level (`station` given, no connector) the current status is set here too.
    """
    session = uow.session
    previous = await repo.interval_at(session, station_id, evse_id, connector_id, at)
    following = None
    # An open previous interval is the last one: only an out-of-order report has a successor.
    if previous is None or previous.ended_at is not None:
        following = await repo.interval_after(session, station_id, evse_id, connector_id, at)
    plan = plan_status(
        _span(previous),
        _span(following),
        status=status,
        error_code=error_code,
        at=at,
        # The station level keeps no report time: its repeats cannot be told apart (rare).
        last_report_at=connector.status_at if connector is not None else None,
    )
    if plan.close_previous_at is not None and previous is not None:
        previous.ended_at = plan.close_previous_at
    for span in plan.opens:
        repo.add_interval(
            session,
            station_id=station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=span.status,
            error_code=span.error_code,
            started_at=span.started_at,
            ended_at=span.ended_at,
        )
    if not plan.is_current:
        return (
            False  # an older report only fills in history; it never overwrites the current status
        )
    if station is not None:
        if (station.status, station.error_code) != (status, error_code):
            _changed(uow, station_id, evse_id, connector_id, status, error_code, at)
        station.status, station.error_code = status, error_code
    return True


async def note_station_time(
    uow: UnitOfWork,
    station_id: str,
    station_time: ParsedTime | datetime,
    received_at: datetime,
    *,
    assume_tz: str | None = None,
) -> None:
    """Store the station's clock skew (station − CSMS, scenario 45) from a live message's timestamp.

    Call it for messages sent live, not for ones replayed from an offline queue. A time without an
    offset (Q7) counts when the station has no zone configured: Joule reads it as UTC, so the skew
    is exactly how far its stored times are off, which is what display correction needs and what
    tells the operator to set the zone. With a zone configured it does not count: wall time is
    ambiguous around DST changes, and an hour's fold is not a clock error.
    """
    if isinstance(station_time, ParsedTime):
        if station_time.implausible or (not station_time.had_offset and assume_tz is not None):
            return
        station_time = station_time.at
    skew = rules.clock_skew(station_time, received_at)
    if skew is None:
        return
    # Status handlers preload the station's state: no SQL for it in a batch (T7).
    state = await lean.station_state(uow, station_id)
    if state is not None and rules.skew_changed(state.clock_skew_s, skew):
        lean.set_clock_skew(uow, state, skew)
