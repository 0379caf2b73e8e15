"""Firmware updates and diagnostics/log uploads, with their status notifications.

Firmware (C16 §5.19 + §4.4; 2.x L01): wait for retrieveDate, download (with retries), install
once no transaction is running (no new ones are started meanwhile), reboot with the new version,
report Installed after the boot. Logs (C16 §5.9 + §4.3; SW16/2.x N01 GetLog): upload a file with
the station's state and report Uploading → Uploaded / UploadFailed.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import urlsplit

from joule.kit.clock import utc_iso
from joule.simulator.chargepoint import ChargePoint
from joule.simulator.transfer import TransferFailed, download, upload


class Host(Protocol):
    """What an update needs from the station: its firmware version and a reboot."""

    firmware_version: str

    async def reboot(self, *, boot_reason: str, stop_reason: str) -> None:
        """Reboot and return once the new boot is Accepted."""
        ...


def firmware_version_of(location: str) -> str:
    """The version a firmware file brings: its file name without the extension."""
    name = PurePosixPath(urlsplit(location).path).name
    return (name.rsplit(".", 1)[0] if "." in name else name)[:50] or "updated"


class Maintenance:
    """Runs firmware updates and log uploads in the background of a station."""

    def __init__(self, cp: ChargePoint, host: Host, *, step_s: float = 2.0) -> None:
        self.cp = cp
        self.host = host
        self.step_s = step_s  # how long installing and similar steps take
        self.updating = False

    def _firmware_status(self, status: str, request_id: int | None) -> None:
        self.cp.outbox.post(self.cp.dialect.firmware_status(status, request_id))

    def update_firmware(
        self,
        location: str,
        *,
        retrieve_at: datetime,
        request_id: int | None,
        retries: int,
        retry_interval_s: float,
    ) -> bool:
        """Start an update; False when one is already running (2.x answers Rejected)."""
        if self.updating:
            return False
        self.updating = True
        self.cp.spawn(self._update(location, retrieve_at, request_id, retries, retry_interval_s))
        return True

    async def _update(
        self,
        location: str,
        retrieve_at: datetime,
        request_id: int | None,
        retries: int,
        retry_interval_s: float,
    ) -> None:
        v2x = self.cp.dialect.version.family == "2.x"
        try:
            wait = (retrieve_at - self.cp.now()).total_seconds()
            if wait > 0:
                if v2x:
                    self._firmware_status("DownloadScheduled", request_id)
                await asyncio.sleep(wait)
            if not await self._download(location, request_id, retries, retry_interval_s):
                return
            self.cp.accepting = False  # install when idle; no new sessions meanwhile
            if self._busy() and v2x:
                self._firmware_status("InstallScheduled", request_id)
            while self._busy():
                await asyncio.sleep(1.0)
            self._firmware_status("Installing", request_id)
            await asyncio.sleep(self.step_s)
            if v2x:
                self._firmware_status("InstallRebooting", request_id)
            self.host.firmware_version = firmware_version_of(location)
            await self.host.reboot(boot_reason="FirmwareUpdate", stop_reason="Reboot")
            self._firmware_status("Installed", request_id)
        finally:
            self.cp.accepting = True
            self.updating = False

    async def _download(
        self, location: str, request_id: int | None, retries: int, retry_interval_s: float
    ) -> bool:
        for attempt in range(retries + 1):
            self._firmware_status("Downloading", request_id)
            try:
                await download(location)
            except TransferFailed:
                if attempt < retries:
                    await asyncio.sleep(retry_interval_s)
                continue
            self._firmware_status("Downloaded", request_id)
            return True
        self._firmware_status("DownloadFailed", request_id)
        return False

    def _busy(self) -> bool:
        return any(evse.active is not None for evse in self.cp.evses.values())

    def upload_log(
        self,
        location: str,
        *,
        kind: str,
        request_id: int | None,
        diagnostics: bool,
        retries: int = 0,
        retry_interval_s: float = 10.0,
    ) -> str:
        """Start an upload of the station's log; returns the file name it will have."""
        stamp = self.cp.now().strftime("%Y%m%dT%H%M%SZ")
        filename = f"{self.cp.station_id}-{kind}-{stamp}.log"[:255]
        self.cp.spawn(
            self._upload(location, filename, request_id, diagnostics, retries, retry_interval_s)
        )
        return filename

    async def _upload(
        self,
        location: str,
        filename: str,
        request_id: int | None,
        diagnostics: bool,
        retries: int,
        retry_interval_s: float,
    ) -> None:
        def status(name: str) -> None:
            out = self.cp.dialect.log_status(name, request_id, diagnostics=diagnostics)
            self.cp.outbox.post(out)

        for attempt in range(retries + 1):
            status("Uploading")
            try:
                await upload(location, filename, self.report().encode())
            except TransferFailed:
                if attempt < retries:
                    await asyncio.sleep(retry_interval_s)
                continue
            status("Uploaded")
            return
        status("UploadFailed")

    def report(self) -> str:
        """The station's state as a text file: EVSEs, configuration and counters."""
        cp = self.cp
        lines = [f"station {cp.station_id} firmware {self.host.firmware_version}"]
        lines.append(f"generated {utc_iso(cp.now())}")
        for evse in cp.evses.values():
            lines.append(
                f"evse {evse.evse_id} {evse.spec.kind.value} status={evse.status.value} "
                f"register_wh={evse.meter.reported_wh()} error={evse.error_code or '-'}"
            )
        for setting in cp.config.settings:
            if setting.mutability != "WriteOnly":
                lines.append(f"config {setting.name}={setting.value}")
        lines.append("counters " + json.dumps(cp.counters.to_dict(), sort_keys=True))
        return "\n".join(lines) + "\n"
