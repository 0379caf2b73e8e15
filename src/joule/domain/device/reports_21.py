"""Inbound OCPP 2.1-only station notifications: kept as reports until a capability uses them.

The protocol room answers NotSupported for these on a 2.0.1 connection before they get here.
Station requests that need a real answer Joule cannot give yet (GetCertificateChainStatus,
PullDynamicScheduleUpdate, VatNumberValidation) stay unhandled: the dispatcher answers
NotSupported rather than a made-up status.
"""

from __future__ import annotations

from joule.domain.context import HandlerContext, Payload, on
from joule.domain.device import service


async def _keep(ctx: HandlerContext, action: str, payload: Payload) -> None:
    await service.record_report(
        ctx.uow, station_id=ctx.station_id, action=action, payload=payload, at=ctx.received_at
    )


@on("2.x", "NotifyDERAlarm")
async def on_notify_der_alarm(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyDERAlarm (2.1 DER control): a DER control alarm started or ended."""
    await _keep(ctx, "NotifyDERAlarm", payload)
    return {}


@on("2.x", "NotifyDERStartStop")
async def on_notify_der_start_stop(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyDERStartStop (2.1 DER control): a DER control started or stopped."""
    await _keep(ctx, "NotifyDERStartStop", payload)
    return {}


@on("2.x", "ReportDERControl")
async def on_report_der_control(ctx: HandlerContext, payload: Payload) -> Payload:
    """ReportDERControl (2.1 DER control): one part of the answer to GetDERControl."""
    await _keep(ctx, "ReportDERControl", payload)
    return {}


@on("2.x", "NotifyPriorityCharging")
async def on_notify_priority_charging(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyPriorityCharging (2.1): priority charging was (de)activated for a transaction."""
    await _keep(ctx, "NotifyPriorityCharging", payload)
    return {}


@on("2.x", "NotifySettlement")
async def on_notify_settlement(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifySettlement (2.1): a local payment terminal settled; billing reads it later."""
    await _keep(ctx, "NotifySettlement", payload)
    return {}  # no receipt of our own to offer (receiptUrl/receiptId are optional)


@on("2.x", "BatterySwap")
async def on_battery_swap(ctx: HandlerContext, payload: Payload) -> Payload:
    """BatterySwap (2.1): batteries were taken out or put in."""
    await _keep(ctx, "BatterySwap", payload)
    return {}


@on("2.x", "OpenPeriodicEventStream")
async def on_open_periodic_event_stream(ctx: HandlerContext, payload: Payload) -> Payload:
    """OpenPeriodicEventStream (2.1): Rejected, so the station keeps using NotifyEvent."""
    await _keep(ctx, "OpenPeriodicEventStream", payload)
    return {
        "status": "Rejected",
        "statusInfo": {
            "reasonCode": "NotSupported",
            "additionalInfo": "periodic event streams are not taken; send NotifyEvent",
        },
    }


@on("2.x", "ClosePeriodicEventStream")
async def on_close_periodic_event_stream(ctx: HandlerContext, payload: Payload) -> Payload:
    """ClosePeriodicEventStream (2.1): acknowledged (no stream is ever open here)."""
    await _keep(ctx, "ClosePeriodicEventStream", payload)
    return {}
