"""Firmware updates, log uploads, cache, local list version and vendor data: send and audit.

Each function answers with the station's answer; where Joule chose a requestId the operator
needs it to follow the FirmwareStatusNotification / LogStatusNotification that come later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joule.domain.command.service import CommandService, fixed, new_request_id
from joule.domain.command.translate import Payload
from joule.domain.command.translate_maintenance import (
    clear_cache_request,
    data_transfer_request,
    firmware_request,
    local_list_version_request,
    log_request,
)


async def update_firmware(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    location: str,
    retrieve_at: datetime,
    install_at: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    signing_certificate: str | None = None,
    signature: str | None = None,
) -> Payload:
    """UpdateFirmware (L01/L02; 1.6 core or SW16 signed), with the requestId where one exists."""
    request_id = new_request_id()
    params = {"location": location, "retrieve_at": retrieve_at.isoformat()}
    return await commands.send_numbered(
        station_id,
        operator,
        "update_firmware",
        params,
        lambda version: firmware_request(
            version,
            request_id=request_id,
            location=location,
            retrieve_at=retrieve_at,
            install_at=install_at,
            retries=retries,
            retry_interval=retry_interval,
            signing_certificate=signing_certificate,
            signature=signature,
        ),
    )


async def upload_log(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    log_type: str,
    location: str,
    oldest: datetime | None = None,
    latest: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
) -> Payload:
    """GetDiagnostics (1.6; no requestId) / GetLog (2.x N01, 1.6 SW16 security log)."""
    request_id = new_request_id()
    params = {"log_type": log_type, "location": location}
    return await commands.send_numbered(
        station_id,
        operator,
        "upload_log",
        params,
        lambda version: log_request(
            version,
            request_id=request_id,
            log_type=log_type,
            location=location,
            oldest=oldest,
            latest=latest,
            retries=retries,
            retry_interval=retry_interval,
        ),
    )


async def clear_cache(commands: CommandService, station_id: str, *, operator: str) -> Payload:
    """ClearCache (C11): empty the station's authorization cache."""
    build = fixed(clear_cache_request)
    return await commands.send(station_id, operator, "clear_cache", {}, build)


async def local_list_version(
    commands: CommandService, station_id: str, *, operator: str
) -> Payload:
    """GetLocalListVersion (D02): the version of the station's local authorization list."""
    build = fixed(local_list_version_request)
    return await commands.send(station_id, operator, "local_list_version", {}, build)


async def data_transfer(
    commands: CommandService,
    station_id: str,
    *,
    operator: str,
    vendor_id: str,
    message_id: str | None = None,
    data: Any = None,
) -> Payload:
    """DataTransfer (P01) to the station, vendor-specific."""
    build = fixed(
        lambda version: data_transfer_request(
            version, vendor_id=vendor_id, message_id=message_id, data=data
        )
    )
    params = {"vendor_id": vendor_id, "message_id": message_id}
    return await commands.send(station_id, operator, "data_transfer", params, build)
