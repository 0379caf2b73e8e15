"""Inbound 2.x device-model reports: variables, events, monitors, customer data, displays."""

from __future__ import annotations

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.device import service
from joule.domain.device.variables import from_event_data, from_report_data


@on("2.x", "NotifyReport")
async def on_notify_report(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyReport (B07/B08): keep the report part and upsert every variable attribute it holds."""
    await service.record_report(
        ctx.uow,
        station_id=ctx.station_id,
        action="NotifyReport",
        payload=payload,
        at=ctx.received_at,
        # reportData is optional in the schema: a report part may carry none.
        variables=from_report_data(payload.get("reportData") or ()),
    )
    return {}


@on("2.x", "NotifyEvent")
async def on_notify_event(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyEvent (N07/N08): keep the events and the Actual values they report."""
    await service.record_report(
        ctx.uow,
        station_id=ctx.station_id,
        action="NotifyEvent",
        payload=payload,
        at=ctx.received_at,
        variables=from_event_data(payload["eventData"]),
        values_only=True,
    )
    return {}


@on("2.x", "NotifyMonitoringReport")
async def on_notify_monitoring_report(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyMonitoringReport (N02): keep the monitors the station reports."""
    await service.record_report(
        ctx.uow,
        station_id=ctx.station_id,
        action="NotifyMonitoringReport",
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("2.x", "NotifyCustomerInformation")
async def on_notify_customer_information(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyCustomerInformation (N09): keep the customer data part as received."""
    await service.record_report(
        ctx.uow,
        station_id=ctx.station_id,
        action="NotifyCustomerInformation",
        payload=payload,
        at=ctx.received_at,
    )
    return {}


@on("2.x", "NotifyDisplayMessages")
async def on_notify_display_messages(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyDisplayMessages (O03/O04): keep the display messages the station reports."""
    await service.record_report(
        ctx.uow,
        station_id=ctx.station_id,
        action="NotifyDisplayMessages",
        payload=payload,
        at=ctx.received_at,
    )
    return {}
