"""Reads behind the station page's panels: firmware/log progress and the stored device model."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import DeviceVariable, StationReport

# The notifications that follow UpdateFirmware (L01/L02, 1.6 §4.5), GetDiagnostics (1.6 §4.4)
# and GetLog (N01): the firmware and diagnostics panel's history.
MAINTENANCE_ACTIONS = (
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
)


async def maintenance_history(
    session: AsyncSession, station_id: str, *, limit: int = 20
) -> list[StationReport]:
    """The station's latest firmware and log upload notifications, newest first."""
    rows = await session.scalars(
        select(StationReport)
        .where(
            StationReport.station_id == station_id,
            StationReport.action.in_(MAINTENANCE_ACTIONS),
        )
        .order_by(StationReport.at.desc(), StationReport.id.desc())
        .limit(limit)
    )
    return list(rows)


async def device_variables(
    session: AsyncSession, station_id: str, *, limit: int = 500
) -> list[DeviceVariable]:
    """The 2.x device-model variables the station reported (NotifyReport), Actual values."""
    rows = await session.scalars(
        select(DeviceVariable)
        .where(DeviceVariable.station_id == station_id, DeviceVariable.attribute_type == "Actual")
        .order_by(DeviceVariable.component, DeviceVariable.variable)
        .limit(limit)
    )
    return list(rows)
