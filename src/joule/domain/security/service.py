"""Security intent verbs: keep security events, judge certificate signing requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joule.domain.events import SecurityEventReceived
from joule.domain.security.csr import check_csr
from joule.domain.security.events import is_critical
from joule.storage.repositories import station as repo
from joule.storage.uow import UnitOfWork

STATION_CERTIFICATE = "ChargingStationCertificate"


async def record_security_event(
    uow: UnitOfWork,
    *,
    station_id: str,
    type: str,
    timestamp: datetime,
    tech_info: str | None,
    received_at: datetime,
) -> bool:
    """Keep a security event and announce it; returns whether it is critical (A04)."""
    critical = is_critical(type)
    repo.add_security_event(
        uow.session,
        station_id=station_id,
        type=type[:64],
        timestamp=timestamp,
        tech_info=tech_info,
        critical=critical,
        received_at=received_at,
    )
    uow.emit(
        SecurityEventReceived(station_id=station_id, type=type, critical=critical, at=timestamp)
    )
    return critical


async def sign_certificate(
    uow: UnitOfWork,
    *,
    station_id: str,
    csr: str,
    certificate_type: str | None,
    payload: dict[str, Any],
    at: datetime,
) -> str:
    """Judge a station's CSR: 'Accepted' or 'Rejected' (A02.FR.11/12); the CSR is kept as a report.

    Only station certificates must name the station: a V2G certificate's CN is the EVSE's
    ISO 15118 identity, which its own CA checks.
    """
    station = await repo.get_station(uow.session, station_id)
    names = [station_id] + ([station.serial_number] if station and station.serial_number else [])
    verdict = check_csr(
        csr,
        expected_common_names=names,
        check_common_name=(certificate_type or STATION_CERTIFICATE) == STATION_CERTIFICATE,
    )
    status = "Accepted" if verdict.accepted else "Rejected"
    # Forwarding to a CA (A02.FR.04) comes later; the CSR waits here with our verdict.
    repo.add_station_report(
        uow.session,
        station_id=station_id,
        action="SignCertificate",
        request_id=payload.get("requestId") if isinstance(payload.get("requestId"), int) else None,
        payload={**payload, "status": status, "reason": verdict.reason},
        at=at,
    )
    return status


async def record_certificate_request(
    uow: UnitOfWork, *, station_id: str, action: str, payload: dict[str, Any], at: datetime
) -> None:
    """Keep a certificate request Joule cannot serve yet (no ISO 15118 PKI, no OCSP responder)."""
    repo.add_station_report(
        uow.session, station_id=station_id, action=action, request_id=None, payload=payload, at=at
    )
