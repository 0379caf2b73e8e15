"""Firmware, logs, cache, local list version and data transfer → each version's CALL (pure).

1.6 has two generations of these messages: the core UpdateFirmware / GetDiagnostics, and the
security whitepaper's (SW16) SignedUpdateFirmware / GetLog, which 2.x adopted as its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joule.domain.command.translate import Payload, Request
from joule.kit.clock import utc_iso
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

DIAGNOSTICS_LOG = "DiagnosticsLog"
SECURITY_LOG = "SecurityLog"


def _retries(payload: Payload, retries: int | None, retry_interval: int | None) -> Payload:
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    return payload


def firmware_request(
    version: OcppVersion,
    *,
    request_id: int,
    location: str,
    retrieve_at: datetime,
    install_at: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    signing_certificate: str | None = None,
    signature: str | None = None,
) -> Request:
    """UpdateFirmware (1.6 core, or SW16 SignedUpdateFirmware when signed; 2.x L01/L02)."""
    signed = signing_certificate is not None or signature is not None
    firmware: Payload = {"location": location, "retrieveDateTime": utc_iso(retrieve_at)}
    if install_at is not None:
        firmware["installDateTime"] = utc_iso(install_at)
    if signing_certificate is not None:
        firmware["signingCertificate"] = signing_certificate
    if signature is not None:
        firmware["signature"] = signature
    if version is OcppVersion.V16:
        if signed:
            # SW16 §4.4: a signed update needs both the certificate and the signature.
            if signing_certificate is None or signature is None:
                raise Invalid(
                    "a signed 1.6 update (SignedUpdateFirmware) needs both signing_certificate "
                    "and signature"
                )
            payload: Payload = {"requestId": request_id, "firmware": firmware}
            return Request("SignedUpdateFirmware", _retries(payload, retries, retry_interval))
        if install_at is not None:
            raise Invalid("a 1.6 UpdateFirmware has no install time: leave out install_at")
        payload = {"location": location, "retrieveDate": utc_iso(retrieve_at)}
        return Request("UpdateFirmware", _retries(payload, retries, retry_interval))
    payload = {"requestId": request_id, "firmware": firmware}
    return Request("UpdateFirmware", _retries(payload, retries, retry_interval))


def log_request(
    version: OcppVersion,
    *,
    request_id: int,
    log_type: str,
    location: str,
    oldest: datetime | None = None,
    latest: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
) -> Request:
    """GetDiagnostics (1.6 diagnostics) or GetLog (2.x N01; 1.6 security log via SW16)."""
    if log_type not in (DIAGNOSTICS_LOG, SECURITY_LOG):
        raise Invalid(f"unknown log type {log_type!r} (DiagnosticsLog or SecurityLog)")
    if version is OcppVersion.V16 and log_type == DIAGNOSTICS_LOG:
        payload: Payload = {"location": location}
        if oldest is not None:
            payload["startTime"] = utc_iso(oldest)
        if latest is not None:
            payload["stopTime"] = utc_iso(latest)
        return Request("GetDiagnostics", _retries(payload, retries, retry_interval))
    log: Payload = {"remoteLocation": location}
    if oldest is not None:
        log["oldestTimestamp"] = utc_iso(oldest)
    if latest is not None:
        log["latestTimestamp"] = utc_iso(latest)
    payload = {"logType": log_type, "requestId": request_id, "log": log}
    return Request("GetLog", _retries(payload, retries, retry_interval))


def clear_cache_request(version: OcppVersion) -> Request:
    """ClearCache (1.6; 2.x C11): the same empty message in every version."""
    return Request("ClearCache", {})


def local_list_version_request(version: OcppVersion) -> Request:
    """GetLocalListVersion (1.6; 2.x D02)."""
    return Request("GetLocalListVersion", {})


def data_transfer_request(
    version: OcppVersion, *, vendor_id: str, message_id: str | None, data: Any
) -> Request:
    """DataTransfer: 1.6 carries data as a string, 2.x as any JSON value."""
    payload: Payload = {"vendorId": vendor_id}
    if message_id is not None:
        payload["messageId"] = message_id
    if data is not None:
        if version is OcppVersion.V16 and not isinstance(data, str):
            raise Invalid("a 1.6 DataTransfer carries data as a string: encode it first")
        payload["data"] = data
    return Request("DataTransfer", payload)
