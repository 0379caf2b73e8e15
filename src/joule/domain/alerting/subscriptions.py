"""Where alerts go: webhooks (URL checked against internal targets) and e-mail subscriptions."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.alerting import rules
from joule.kit.errors import Invalid, NotFound
from joule.storage.models import AlertSubscription, Webhook, WebhookDelivery
from joule.storage.repositories import alert as repo

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services outside 169.254.0.0/16 (scenario 39f: never a webhook target).
_METADATA = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)


def refused_address(address: IpAddress) -> str | None:
    """Why a webhook may not reach this address (link-local, metadata …), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refused_address(address.ipv4_mapped)
    if address.is_link_local:
        return "link-local addresses (cloud metadata services) are refused"
    if address in _METADATA:
        return "cloud metadata addresses are refused"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "multicast, unspecified and reserved addresses are refused"
    return None


def check_url_shape(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; Invalid for anything else or a refused literal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("webhook url must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise Invalid("webhook url must not carry credentials; use the secret")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid("webhook url has an invalid port") from None
    try:
        literal: IpAddress | None = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and (reason := refused_address(literal)):
        raise Invalid(f"webhook url refused: {reason}")
    return parts.hostname, port


async def check_url(url: str) -> None:
    """Refuse a webhook URL whose host is, or resolves to, a refused address (scenario 39f).

    Checked again before every delivery: a name may resolve elsewhere later (DNS rebinding).
    """
    host, port = check_url_shape(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Invalid(f"webhook host {host} does not resolve: {error}") from None
    for info in infos:
        reason = refused_address(ipaddress.ip_address(info[4][0]))
        if reason:
            raise Invalid(f"webhook url refused: {host} resolves to {info[4][0]}; {reason}")


def _checked_rules(names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    unknown = sorted(set(names) - set(rules.RULES))
    if unknown:
        raise Invalid(f"unknown alert rules: {', '.join(unknown)}")
    return sorted(set(names))


def matches(
    rule_filter: list[str] | None, site_filter: str | None, alert: dict[str, object]
) -> bool:
    """True when a webhook or subscription with these filters wants this alert."""
    if rule_filter is not None and alert.get("rule") not in rule_filter:
        return False
    return site_filter is None or alert.get("site_id") == site_filter


async def create_webhook(
    session: AsyncSession,
    *,
    url: str,
    secret: str,
    rule_filter: list[str] | None,
    site_id: str | None,
    created_by: str,
    at: datetime,
) -> Webhook:
    """Register a webhook (the URL must already have passed check_url)."""
    row = Webhook(
        url=url,
        secret=secret,
        rules=_checked_rules(rule_filter),
        site_id=site_id,
        active=True,
        created_by=created_by,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def get_webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    """One webhook; NotFound otherwise."""
    row = await session.get(Webhook, webhook_id)
    if row is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    return row


async def list_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Every webhook."""
    return await repo.all_webhooks(session)


async def active_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Webhooks that receive alerts."""
    return await repo.active_webhooks(session)


async def delete_webhook(session: AsyncSession, webhook_id: int) -> None:
    """Remove a webhook and its delivery log."""
    row = await get_webhook(session, webhook_id)
    await session.delete(row)


async def deliveries(
    session: AsyncSession, webhook_id: int, *, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    """A page of the webhook's delivery log, newest first."""
    await get_webhook(session, webhook_id)
    return await repo.deliveries_of(session, webhook_id, limit=limit, offset=offset)


def record_delivery(
    session: AsyncSession,
    *,
    webhook_id: int,
    alert_id: int,
    event: str,
    attempt: int,
    status_code: int | None,
    error: str | None,
    delivered: bool,
    at: datetime,
) -> None:
    """Append one attempt to the delivery log."""
    session.add(
        WebhookDelivery(
            webhook_id=webhook_id,
            alert_id=alert_id,
            event=event,
            attempt=attempt,
            status_code=status_code,
            error=error[:500] if error else None,
            delivered=delivered,
            at=at,
        )
    )


async def create_subscription(
    session: AsyncSession,
    *,
    email: str,
    rule_filter: list[str] | None,
    site_id: str | None,
    created_by: str,
    at: datetime,
) -> AlertSubscription:
    """Subscribe an e-mail address to alerts (all, or some rules, or one site)."""
    row = AlertSubscription(
        email=email,
        rules=_checked_rules(rule_filter),
        site_id=site_id,
        created_by=created_by,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def list_subscriptions(session: AsyncSession) -> Sequence[AlertSubscription]:
    """Every e-mail subscription."""
    return await repo.all_subscriptions(session)


async def delete_subscription(session: AsyncSession, subscription_id: int) -> None:
    """Remove an e-mail subscription."""
    row = await session.get(AlertSubscription, subscription_id)
    if row is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    await session.delete(row)
