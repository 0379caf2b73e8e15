"""Inbound firmware, diagnostics and log status notifications (1.6, its security extension, 2.x)."""

from __future__ import annotations

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.firmware import service


@on("1.6", "FirmwareStatusNotification")
@on("2.x", "FirmwareStatusNotification")
async def on_firmware_status_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """FirmwareStatusNotification: progress of an UpdateFirmware."""
    await service.record_firmware_status(
        ctx.uow,
        station_id=ctx.station_id,
        action="FirmwareStatusNotification",
        status=payload["status"],
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("1.6", "SignedFirmwareStatusNotification")
async def on_signed_firmware_status_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 security extension: progress of a SignedUpdateFirmware."""
    await service.record_firmware_status(
        ctx.uow,
        station_id=ctx.station_id,
        action="SignedFirmwareStatusNotification",
        status=payload["status"],
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("1.6", "DiagnosticsStatusNotification")
async def on_diagnostics_status_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 DiagnosticsStatusNotification: progress of a GetDiagnostics upload."""
    await service.record_upload_status(
        ctx.uow,
        station_id=ctx.station_id,
        action="DiagnosticsStatusNotification",
        status=payload["status"],
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("1.6", "LogStatusNotification")
@on("2.x", "LogStatusNotification")
async def on_log_status_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """LogStatusNotification (N01; 1.6 security extension): progress of a GetLog upload."""
    await service.record_upload_status(
        ctx.uow,
        station_id=ctx.station_id,
        action="LogStatusNotification",
        status=payload["status"],
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("2.x", "PublishFirmwareStatusNotification")
async def on_publish_firmware_status_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """PublishFirmwareStatusNotification (L03): a local controller's publishing progress."""
    await service.record_publish_status(
        ctx.uow, station_id=ctx.station_id, payload=payload, at=ctx.received_at
    )
    return {}
