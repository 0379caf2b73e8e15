"""Inbound security messages: SecurityEventNotification, SignCertificate, ISO 15118 certificates."""

from __future__ import annotations

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.security import service
from joule.domain.station.timing import event_time


@on("1.6", "SecurityEventNotification")
@on("2.x", "SecurityEventNotification")
async def on_security_event_notification(ctx: HandlerContext, payload: Payload) -> Payload:
    """SecurityEventNotification: keep it and always acknowledge (A04.FR.02/03)."""
    # Security events are queued with guaranteed delivery: a bad timestamp must not bounce one.
    when = event_time(
        payload["timestamp"], assume_tz=ctx.station_timezone, received_at=ctx.received_at
    )
    await service.record_security_event(
        ctx.uow,
        station_id=ctx.station_id,
        type=payload["type"],
        timestamp=when.at,
        tech_info=payload.get("techInfo"),
        received_at=ctx.received_at,
    )
    return {}


@on("1.6", "SignCertificate")
@on("2.x", "SignCertificate")
async def on_sign_certificate(ctx: HandlerContext, payload: Payload) -> Payload:
    """SignCertificate (A02/A03; 1.6 security extension): Accepted or Rejected for the CSR."""
    status = await service.sign_certificate(
        ctx.uow,
        station_id=ctx.station_id,
        csr=payload["csr"],
        certificate_type=payload.get("certificateType"),
        payload=payload,
        at=ctx.received_at,
    )
    return {"status": status}


@on("2.x", "Get15118EVCertificate")
async def on_get_15118_ev_certificate(ctx: HandlerContext, payload: Payload) -> Payload:
    """Get15118EVCertificate (M01/M02): no ISO 15118 PKI is configured, so Failed."""
    await service.record_certificate_request(
        ctx.uow,
        station_id=ctx.station_id,
        action="Get15118EVCertificate",
        payload=payload,
        at=ctx.received_at,
    )
    # exiResponse is required even on failure; an empty one carries no certificate.
    return {"status": "Failed", "exiResponse": ""}


@on("2.x", "GetCertificateStatus")
async def on_get_certificate_status(ctx: HandlerContext, payload: Payload) -> Payload:
    """GetCertificateStatus (M06): no OCSP responder is configured, so Failed without a result."""
    await service.record_certificate_request(
        ctx.uow,
        station_id=ctx.station_id,
        action="GetCertificateStatus",
        payload=payload,
        at=ctx.received_at,
    )
    return {"status": "Failed"}
