"""Monitoring and alerts: alerts (list, acknowledge), rules (thresholds), webhooks, e-mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import (
    AdminOperator,
    Caller,
    CommandOperator,
    CurrentOperator,
    Db,
    PageParams,
    Services,
)
from joule.api.schemas.alert import (
    AlertRead,
    AlertRuleRead,
    AlertRuleUpdate,
    SubscriptionCreate,
    SubscriptionRead,
    WebhookCreate,
    WebhookDeliveryRead,
    WebhookRead,
)
from joule.api.schemas.common import Page
from joule.domain.access.scope import place_role, station_or_site_condition
from joule.domain.alerting import rules, service, subscriptions
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.domain.alerting.rules import RuleSettings
from joule.kit.errors import NotFound
from joule.storage.models import Alert
from joule.storage.uow import UnitOfWork

router = APIRouter(tags=["alerts"])


def _rule_read(config: RuleSettings) -> AlertRuleRead:
    spec = rules.RULES[config.rule]
    return AlertRuleRead(
        rule=config.rule,
        enabled=config.enabled,
        severity=spec.severity,
        description=spec.description,
        params=config.params,
        defaults=spec.defaults,
    )


async def _counts_changed(request: Request) -> None:
    evaluator: AlertEvaluator | None = getattr(request.app.state, "alert_evaluator", None)
    if evaluator is not None:
        await evaluator.refresh_counts()


async def _visible_alert(session: AsyncSession, caller: Caller, alert_id: int) -> None:
    # An alert about another organisation's station or site reads as absent (issue 5).
    row = await service.get_alert(session, alert_id)
    if (
        await place_role(session, caller.scope, station_id=row.station_id, site_id=row.site_id)
        is None
    ):
        raise NotFound(f"alert {alert_id} does not exist")


@router.get("/alerts")
async def list_alerts(
    caller: CurrentOperator,
    db: Db,
    page: PageParams,
    state: Annotated[str | None, Query(description="open | acknowledged | resolved")] = None,
    station_id: str | None = None,
    site_id: str | None = None,
    rule: str | None = None,
) -> Page[AlertRead]:
    """Alerts, newest first, with filters."""

    async def work(session: AsyncSession) -> Page[AlertRead]:
        rows, total = await service.list_alerts(
            session,
            state=state,
            station_id=station_id,
            site_id=site_id,
            rule=rule,
            limit=page.limit,
            offset=page.offset,
            visible=station_or_site_condition(caller.scope, Alert.station_id, Alert.site_id),
        )
        items = [AlertRead.model_validate(r) for r in rows]
        return Page.of(items, total, limit=page.limit, offset=page.offset)

    return await db.read(work)


@router.get("/alerts/{alert_id}")
async def get_alert(alert_id: int, caller: CurrentOperator, db: Db) -> AlertRead:
    """One alert; 404 outside the caller's scope."""

    async def work(session: AsyncSession) -> AlertRead:
        await _visible_alert(session, caller, alert_id)
        return AlertRead.model_validate(await service.get_alert(session, alert_id))

    return await db.read(work)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: int, request: Request, operator: CommandOperator, services: Services
) -> AlertRead:
    """Acknowledge an open alert: someone is on it (it still resolves when the condition clears)."""
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> AlertRead:
        await _visible_alert(uow.session, operator, alert_id)
        row = await service.acknowledge(uow, alert_id, operator=operator.email, at=at)
        return AlertRead.model_validate(row)

    acknowledged = await services.committer.run(work)
    await _counts_changed(request)
    return acknowledged


@router.get("/alert-rules")
async def list_rules(_: CurrentOperator, db: Db) -> list[AlertRuleRead]:
    """Every rule with its thresholds."""
    settings = await db.read(service.rule_settings)
    return [_rule_read(config) for config in settings.values()]


@router.patch("/alert-rules/{rule}")
async def update_rule(
    rule: str, body: AlertRuleUpdate, _: AdminOperator, db: Db, services: Services
) -> AlertRuleRead:
    """Change a rule's thresholds or switch it on or off (admins)."""
    at = services.clock.now()

    async def work(session: AsyncSession) -> RuleSettings:
        return await service.update_rule(
            session, rule, enabled=body.enabled, params=body.params, at=at
        )

    return _rule_read(await db.write(work))


@router.get("/webhooks")
async def list_webhooks(_: AdminOperator, db: Db) -> list[WebhookRead]:
    """Every webhook (secrets are never returned)."""
    rows = await db.read(subscriptions.list_webhooks)
    return [WebhookRead.model_validate(r) for r in rows]


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate, operator: AdminOperator, db: Db, services: Services
) -> WebhookRead:
    """Register a webhook; URLs to link-local or metadata addresses are refused (scenario 39f)."""
    await subscriptions.check_url(body.url)
    at = services.clock.now()

    async def work(session: AsyncSession) -> WebhookRead:
        row = await subscriptions.create_webhook(
            session,
            url=body.url,
            secret=body.secret,
            rule_filter=body.rules,
            site_id=body.site_id,
            created_by=operator.email,
            at=at,
        )
        return WebhookRead.model_validate(row)

    return await db.write(work)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: int, _: AdminOperator, db: Db) -> Response:
    """Remove a webhook and its delivery log."""
    await db.write(lambda session: subscriptions.delete_webhook(session, webhook_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries")
async def deliveries(
    webhook_id: int, _: AdminOperator, db: Db, page: PageParams
) -> Page[WebhookDeliveryRead]:
    """The webhook's delivery log, newest first."""

    async def work(session: AsyncSession) -> Page[WebhookDeliveryRead]:
        rows, total = await subscriptions.deliveries(
            session, webhook_id, limit=page.limit, offset=page.offset
        )
        items = [WebhookDeliveryRead.model_validate(r) for r in rows]
        return Page.of(items, total, limit=page.limit, offset=page.offset)

    return await db.read(work)


@router.get("/alert-subscriptions")
async def list_subscriptions(_: CurrentOperator, db: Db) -> list[SubscriptionRead]:
    """Every e-mail subscription."""
    rows = await db.read(subscriptions.list_subscriptions)
    return [SubscriptionRead.model_validate(r) for r in rows]


@router.post("/alert-subscriptions", status_code=status.HTTP_201_CREATED)
async def create_subscription(
    body: SubscriptionCreate, operator: CommandOperator, db: Db, services: Services
) -> SubscriptionRead:
    """Subscribe an e-mail address to alerts (per site and/or per alert rule)."""
    at = services.clock.now()

    async def work(session: AsyncSession) -> SubscriptionRead:
        row = await subscriptions.create_subscription(
            session,
            email=body.email,
            rule_filter=body.rules,
            site_id=body.site_id,
            created_by=operator.email,
            at=at,
        )
        return SubscriptionRead.model_validate(row)

    return await db.write(work)


@router.delete("/alert-subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(subscription_id: int, _: CommandOperator, db: Db) -> Response:
    """Remove an e-mail subscription."""
    await db.write(lambda session: subscriptions.delete_subscription(session, subscription_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
