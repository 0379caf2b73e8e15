"""Inbound 2.x smart-charging and reservation notifications: kept as reports, answered minimally."""

from __future__ import annotations

from joule.domain.command import reservation_state
from joule.domain.context import HandlerContext, Payload, on
from joule.domain.device import service


async def _keep(ctx: HandlerContext, action: str, payload: Payload) -> None:
    await service.record_report(
        ctx.uow, station_id=ctx.station_id, action=action, payload=payload, at=ctx.received_at
    )


@on("2.x", "NotifyChargingLimit")
async def on_notify_charging_limit(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyChargingLimit (K12): an external limit (EMS, SO …) the station now applies."""
    await _keep(ctx, "NotifyChargingLimit", payload)
    return {}


@on("2.x", "ClearedChargingLimit")
async def on_cleared_charging_limit(ctx: HandlerContext, payload: Payload) -> Payload:
    """ClearedChargingLimit (K13): an external limit was released."""
    await _keep(ctx, "ClearedChargingLimit", payload)
    return {}


@on("2.x", "ReportChargingProfiles")
async def on_report_charging_profiles(ctx: HandlerContext, payload: Payload) -> Payload:
    """ReportChargingProfiles (K09): one part of the answer to GetChargingProfiles."""
    await _keep(ctx, "ReportChargingProfiles", payload)
    return {}


@on("2.x", "NotifyEVChargingNeeds")
async def on_notify_ev_charging_needs(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyEVChargingNeeds (K15): Accepted means processed, not that the needs can be met."""
    await _keep(ctx, "NotifyEVChargingNeeds", payload)
    return {"status": "Accepted"}


@on("2.x", "NotifyEVChargingSchedule")
async def on_notify_ev_charging_schedule(ctx: HandlerContext, payload: Payload) -> Payload:
    """NotifyEVChargingSchedule (K15/K17): Accepted means processed, not that it is approved."""
    await _keep(ctx, "NotifyEVChargingSchedule", payload)
    return {"status": "Accepted"}


@on("2.x", "ReservationStatusUpdate")
async def on_reservation_status_update(ctx: HandlerContext, payload: Payload) -> Payload:
    """ReservationStatusUpdate (H04): a reservation expired or was removed at the station."""
    await _keep(ctx, "ReservationStatusUpdate", payload)
    await reservation_state.record_update(
        ctx.uow.session,
        station_id=ctx.station_id,
        reservation_id=payload["reservationId"],
        status=payload["reservationUpdateStatus"],
        at=ctx.received_at,
    )
    return {}
