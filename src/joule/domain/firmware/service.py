"""Firmware and log intent verbs: track the station's firmware and upload progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joule.domain.station.service import ensure_station
from joule.storage.repositories import station as repo
from joule.storage.uow import UnitOfWork


def _keep(
    uow: UnitOfWork, station_id: str, action: str, payload: dict[str, Any], at: datetime
) -> None:
    request_id = payload.get("requestId")
    repo.add_station_report(
        uow.session,
        station_id=station_id,
        action=action,
        request_id=request_id if isinstance(request_id, int) else None,
        payload=payload,
        at=at,
    )


async def record_firmware_status(
    uow: UnitOfWork,
    *,
    station_id: str,
    action: str,
    status: str,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    """Set the station's firmware status (L01/L02; 1.6 §4.5) and keep the notification."""
    station = await ensure_station(uow.session, station_id, at)
    station.firmware_status = status[:48]
    _keep(uow, station_id, action, payload, at)


async def record_upload_status(
    uow: UnitOfWork,
    *,
    station_id: str,
    action: str,
    status: str,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    """Set the station's diagnostics/log upload status (N01; 1.6 §4.4) and keep the notification."""
    station = await ensure_station(uow.session, station_id, at)
    station.diagnostics_status = status[:48]
    _keep(uow, station_id, action, payload, at)


async def record_publish_status(
    uow: UnitOfWork, *, station_id: str, payload: dict[str, Any], at: datetime
) -> None:
    """Keep a local controller's firmware publishing progress (L03).

    Publishing firmware for other stations is not this station's own firmware: the station's
    firmware_status is left alone.
    """
    _keep(uow, station_id, "PublishFirmwareStatusNotification", payload, at)
