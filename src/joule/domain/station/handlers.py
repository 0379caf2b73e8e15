"""Inbound BootNotification, Heartbeat and StatusNotification for OCPP 1.6 and 2.x."""

from __future__ import annotations

from typing import Any

from joule.domain.context import HandlerContext, Payload, StatelessContext, on, on_stateless
from joule.domain.station import service
from joule.domain.station.rules import BootAnswer
from joule.domain.station.timing import event_time
from joule.kit.clock import utc_iso
from joule.ocpp.errors import ErrorKind, OcppError
from joule.storage.committer import Preload
from joule.storage.models import Station
from joule.storage.repositories.station import load_open_transactions
from joule.storage.repositories.station_state import load_parts, load_stations


def _station_level(station_id: str, payload: Payload) -> Preload:
    """A station-level status (connector / EVSE 0) reads and writes the station row's status."""
    return {Station: (station_id,)}


def _booting(station_id: str, payload: Payload) -> Preload:
    """A boot reads the station's state and whether it has open transactions (scenario 11)."""
    return {load_stations: (station_id,), load_open_transactions: (station_id,)}


def _connector(station_id: str, payload: Payload) -> Preload:
    """A connector's status reads the station's state and its EVSEs and connectors (T7)."""
    return {load_stations: (station_id,), load_parts: (station_id,)}


def _connector_16(station_id: str, payload: Payload) -> Preload:
    """1.6 StatusNotification: connector N is EVSE N / connector 1, connector 0 the station."""
    if payload.get("connectorId") == 0:
        return _station_level(station_id, payload)
    return _connector(station_id, payload)


def _connector_2x(station_id: str, payload: Payload) -> Preload:
    """2.x StatusNotification: EVSE 0 is the station, any other an EVSE's connector."""
    if payload.get("evseId") == 0:
        return _station_level(station_id, payload)
    return _connector(station_id, payload)


def _boot_response(ctx: HandlerContext, answer: BootAnswer) -> Payload:
    # B01.FR.06 / C16 §4.2: currentTime lets the station set its clock; always UTC (C16 §3.14).
    return {
        "status": answer.status,
        "currentTime": utc_iso(ctx.clock.now()),
        "interval": answer.interval,
    }


@on("1.6", "BootNotification", preload=_booting)
async def on_boot_notification_16(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 BootNotification: store the charge point's identity, answer by its registration."""
    info = service.BootInfo(
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        # chargeBoxSerialNumber is deprecated in 1.6 in favour of chargePointSerialNumber.
        serial_number=payload.get("chargePointSerialNumber")
        or payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
        iccid=payload.get("iccid"),
        imsi=payload.get("imsi"),
        meter_type=payload.get("meterType"),
        meter_serial_number=payload.get("meterSerialNumber"),
    )
    answer = await service.register_boot(
        ctx.uow,
        station_id=ctx.station_id,
        info=info,
        reason=None,
        payload=payload,
        at=ctx.received_at,
    )
    return _boot_response(ctx, answer)


@on("2.x", "BootNotification", preload=_booting)
async def on_boot_notification_2x(ctx: HandlerContext, payload: Payload) -> Payload:
    """2.x BootNotification: store the charging station's identity and boot reason (B01)."""
    station: dict[str, Any] = payload["chargingStation"]
    modem: dict[str, Any] = station.get("modem") or {}
    info = service.BootInfo(
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
    )
    answer = await service.register_boot(
        ctx.uow,
        station_id=ctx.station_id,
        info=info,
        reason=payload.get("reason"),
        payload=payload,
        at=ctx.received_at,
    )
    return _boot_response(ctx, answer)


@on_stateless("1.6", "Heartbeat")
@on_stateless("2.x", "Heartbeat")
def on_heartbeat(ctx: StatelessContext, payload: Payload) -> Payload:
    """Heartbeat: the CSMS time in UTC; last-seen is tracked by the gateway, nothing to write."""
    return {"currentTime": utc_iso(ctx.clock.now())}


@on("1.6", "StatusNotification", preload=_connector_16)
async def on_status_notification_16(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 StatusNotification: connector N is EVSE N connector 1, connector 0 the whole station."""
    connector_id: int = payload["connectorId"]
    if connector_id < 0:
        raise OcppError(
            ErrorKind.PROPERTY, "connectorId must be 0 or more", {"path": "connectorId"}
        )
    when = event_time(
        payload.get("timestamp"), assume_tz=ctx.station_timezone, received_at=ctx.received_at
    )
    evse_id, connector = (connector_id, 1) if connector_id > 0 else (0, 0)
    await service.record_status(
        ctx.uow,
        station_id=ctx.station_id,
        evse_id=evse_id,
        connector_id=connector,
        status=payload["status"],
        error_code=payload.get("errorCode"),
        info=payload.get("info"),
        vendor_error_code=payload.get("vendorErrorCode"),
        at=when.at,
    )
    if when.parsed is not None:
        await service.note_station_time(
            ctx.uow,
            ctx.station_id,
            when.parsed,
            ctx.received_at,
            assume_tz=ctx.station_timezone,
        )
    return {}


@on("2.x", "StatusNotification", preload=_connector_2x)
async def on_status_notification_2x(ctx: HandlerContext, payload: Payload) -> Payload:
    """2.x StatusNotification: the connector status of one EVSE connector (G01)."""
    evse_id: int = payload["evseId"]
    connector_id: int = payload["connectorId"]
    if evse_id < 0 or connector_id < 0:
        raise OcppError(ErrorKind.PROPERTY, "evseId and connectorId must be 0 or more")
    when = event_time(
        payload["timestamp"], assume_tz=ctx.station_timezone, received_at=ctx.received_at
    )
    await service.record_status(
        ctx.uow,
        station_id=ctx.station_id,
        evse_id=evse_id,
        # EVSE 0 is the station as a whole: its history is kept under connector 0.
        connector_id=connector_id if evse_id > 0 else 0,
        status=payload["connectorStatus"],
        error_code=None,
        at=when.at,
    )
    if when.parsed is not None:
        await service.note_station_time(
            ctx.uow,
            ctx.station_id,
            when.parsed,
            ctx.received_at,
            assume_tz=ctx.station_timezone,
        )
    return {}
