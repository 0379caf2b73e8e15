"""Maintenance commands: firmware, diagnostics/logs, authorization cache, local list version,
vendor data. Each answers with the station's answer (plus the requestId Joule chose, where the
version's message has one); failures map as in routes/commands.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from joule.api.deps import CommandOperator, Commands
from joule.api.schemas.command_maintenance import (
    DataTransferCommand,
    DiagnosticsCommand,
    FirmwareCommand,
)
from joule.domain.command import maintenance

router = APIRouter(tags=["commands"])

Answer = dict[str, Any]


@router.post("/stations/{station_id}/firmware")
async def update_firmware(
    station_id: str, body: FirmwareCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """UpdateFirmware (1.6; SignedUpdateFirmware when signed) / 2.x, with the requestId."""
    return await maintenance.update_firmware(
        commands,
        station_id,
        operator=operator.email,
        location=body.location,
        retrieve_at=body.retrieve_at,
        install_at=body.install_at,
        retries=body.retries,
        retry_interval=body.retry_interval,
        signing_certificate=body.signing_certificate,
        signature=body.signature,
    )


@router.post("/stations/{station_id}/diagnostics")
async def diagnostics(
    station_id: str, body: DiagnosticsCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """GetDiagnostics (1.6) / GetLog (2.x, and the 1.6 security log) with requestId."""
    return await maintenance.upload_log(
        commands,
        station_id,
        operator=operator.email,
        log_type=body.log_type,
        location=body.location,
        oldest=body.start_time,
        latest=body.stop_time,
        retries=body.retries,
        retry_interval=body.retry_interval,
    )


@router.post("/stations/{station_id}/clear-cache")
async def clear_cache(station_id: str, operator: CommandOperator, commands: Commands) -> Answer:
    """ClearCache: empty the station's authorization cache."""
    return await maintenance.clear_cache(commands, station_id, operator=operator.email)


@router.get("/stations/{station_id}/local-list-version")
async def local_list_version(
    station_id: str, operator: CommandOperator, commands: Commands
) -> Answer:
    """GetLocalListVersion: 1.6 `listVersion`, 2.x `versionNumber`, as the station answers."""
    return await maintenance.local_list_version(commands, station_id, operator=operator.email)


@router.post("/stations/{station_id}/data-transfer")
async def data_transfer(
    station_id: str, body: DataTransferCommand, operator: CommandOperator, commands: Commands
) -> Answer:
    """DataTransfer to the station (vendorId, messageId, data)."""
    return await maintenance.data_transfer(
        commands,
        station_id,
        operator=operator.email,
        vendor_id=body.vendor_id,
        message_id=body.message_id,
        data=body.data,
    )
