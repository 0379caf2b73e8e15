"""StartTransaction / StopTransaction (1.6) and TransactionEvent (2.x)."""

from __future__ import annotations

from decimal import Decimal

from joule.domain.authorization.handlers import hook_verdict, id_tag_info, id_token_info
from joule.domain.context import HandlerContext, Payload, on
from joule.domain.metering.handlers import readings_2x, readings_16
from joule.domain.metering.rules import QUIRK_EMPTY_SAMPLED_VALUE
from joule.domain.transaction import event_service, service
from joule.domain.transaction.event_service import TransactionEventFacts
from joule.storage.repositories.activity import add_quirks


async def _count(ctx: HandlerContext, quirks: tuple[str, ...] | list[str]) -> None:
    if quirks:
        await add_quirks(ctx.uow.session, ctx.station_id, tuple(quirks))


@on("1.6", "StartTransaction")
async def on_start_transaction(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 StartTransaction: always a transactionId with the tag's status (C16 §4.8)."""
    connector_id = int(payload["connectorId"])
    outcome = await service.start(
        ctx.uow,
        station_id=ctx.station_id,
        # 1.6 connector N is EVSE N with connector 1 (contract: stations' connectors).
        evse_id=connector_id,
        connector_id=1 if connector_id > 0 else None,
        id_token=payload["idTag"],
        meter_start_wh=Decimal(int(payload["meterStart"])),
        timestamp=payload["timestamp"],
        reservation_id=payload.get("reservationId"),
        assume_tz=ctx.station_timezone,
        received_at=ctx.received_at,
        external=hook_verdict(ctx),
    )
    await _count(ctx, outcome.quirks)
    return {"transactionId": outcome.transaction_pk, "idTagInfo": id_tag_info(outcome.decision)}


@on("1.6", "StopTransaction")
async def on_stop_transaction(ctx: HandlerContext, payload: Payload) -> Payload:
    """1.6 StopTransaction: always answered, never refused (C16 §4.10, §3.7.1)."""
    readings, empty = readings_16(payload.get("transactionData") or [])
    outcome = await service.stop(
        ctx.uow,
        station_id=ctx.station_id,
        transaction_pk=int(payload["transactionId"]),
        id_token=payload.get("idTag"),
        meter_stop_wh=Decimal(int(payload["meterStop"])),
        timestamp=payload["timestamp"],
        reason=payload.get("reason"),
        readings=readings,
        payload=payload,
        assume_tz=ctx.station_timezone,
        received_at=ctx.received_at,
    )
    quirks = list(outcome.quirks)
    if empty and outcome.closed:
        quirks.append(QUIRK_EMPTY_SAMPLED_VALUE)
    await _count(ctx, quirks)
    if outcome.decision is None:
        return {}
    return {"idTagInfo": id_tag_info(outcome.decision)}


@on("2.x", "TransactionEvent")
async def on_transaction_event(ctx: HandlerContext, payload: Payload) -> Payload:
    """2.x TransactionEvent: {} or {idTokenInfo} when an idToken came along (E05.FR.01)."""
    info = payload["transactionInfo"]
    id_token = payload.get("idToken") or {}
    evse = payload.get("evse") or {}
    readings, empty = readings_2x(payload.get("meterValue") or [])
    facts = TransactionEventFacts(
        event_type=payload["eventType"],
        timestamp=payload["timestamp"],
        trigger_reason=payload["triggerReason"],
        seq_no=int(payload["seqNo"]),
        transaction_uid=info["transactionId"],
        offline=bool(payload.get("offline", False)),
        charging_state=info.get("chargingState"),
        stopped_reason=info.get("stoppedReason"),
        remote_start_id=info.get("remoteStartId"),
        reservation_id=payload.get("reservationId"),
        id_token=id_token.get("idToken"),
        id_token_type=id_token.get("type"),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        readings=readings,
    )
    outcome = await event_service.record_event(
        ctx.uow,
        facts,
        station_id=ctx.station_id,
        payload=payload,
        assume_tz=ctx.station_timezone,
        received_at=ctx.received_at,
        external=hook_verdict(ctx),
    )
    quirks = list(outcome.quirks)
    if empty and not outcome.duplicate:
        quirks.append(QUIRK_EMPTY_SAMPLED_VALUE)
    await _count(ctx, quirks)
    if outcome.decision is None:
        return {}
    return {"idTokenInfo": id_token_info(outcome.decision)}
