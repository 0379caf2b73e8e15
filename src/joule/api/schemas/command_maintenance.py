"""Bodies of the maintenance commands: firmware, logs, data transfer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from joule.api.schemas.command import CommandBody


class FirmwareCommand(CommandBody):
    """Update the station's firmware from a URL (1.6 UpdateFirmware / SignedUpdateFirmware,
    2.x UpdateFirmware); a signed update needs signing_certificate and signature."""

    location: str = Field(min_length=1, max_length=512, examples=["https://fw.example/v2.bin"])
    retrieve_at: AwareDatetime = Field(description="when to download (with a UTC offset)")
    install_at: AwareDatetime | None = Field(default=None, description="signed / 2.x only")
    retries: int | None = Field(default=None, ge=0)
    retry_interval: int | None = Field(default=None, ge=0, description="seconds")
    signing_certificate: str | None = Field(default=None, max_length=5500, description="PEM")
    signature: str | None = Field(default=None, max_length=800, description="base64")


class DiagnosticsCommand(CommandBody):
    """Upload a log to a URL: 1.6 GetDiagnostics (DiagnosticsLog) or GetLog (2.x; 1.6 security
    log through the security extension)."""

    location: str = Field(min_length=1, max_length=512, examples=["ftp://logs.example/up/"])
    log_type: Literal["DiagnosticsLog", "SecurityLog"] = "DiagnosticsLog"
    start_time: AwareDatetime | None = Field(default=None, description="oldest entry to include")
    stop_time: AwareDatetime | None = Field(default=None, description="latest entry to include")
    retries: int | None = Field(default=None, ge=0)
    retry_interval: int | None = Field(default=None, ge=0, description="seconds")


class DataTransferCommand(CommandBody):
    """Vendor-specific data (1.6: data is a string; 2.x: any JSON value)."""

    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = None
