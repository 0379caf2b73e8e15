"""Alert, alert rule, webhook and e-mail subscription schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from joule.api.schemas.common import ReadModel, UtcDatetime


class AlertRead(ReadModel):
    """An alert."""

    id: int
    rule: str
    target: str
    station_id: str | None
    site_id: str | None
    severity: str
    state: str = Field(description="open | acknowledged | resolved")
    message: str
    details: dict[str, Any]
    raised_at: UtcDatetime
    last_seen_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    resolved_at: UtcDatetime | None


class AlertRuleRead(BaseModel):
    """A rule with its thresholds (defaults filled in)."""

    rule: str
    enabled: bool
    severity: str
    description: str
    params: dict[str, int]
    defaults: dict[str, int]


class AlertRuleUpdate(BaseModel):
    """Enable/disable a rule or change some of its thresholds."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    params: dict[str, Any] | None = Field(default=None, examples=[{"minutes": 5}])


class WebhookCreate(BaseModel):
    """A webhook: alerts are POSTed as JSON, signed with HMAC-SHA256 of the secret."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000)
    secret: str = Field(min_length=16, max_length=200)
    rules: list[str] | None = Field(default=None, description="alert rules; none: every rule")
    site_id: str | None = Field(default=None, description="only this site's alerts")


class WebhookRead(ReadModel):
    """A webhook (its secret is never returned)."""

    id: int
    url: str
    rules: list[str] | None
    site_id: str | None
    active: bool
    created_by: str | None
    created_at: UtcDatetime


class WebhookDeliveryRead(ReadModel):
    """One delivery attempt."""

    id: int
    alert_id: int
    event: str
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    at: UtcDatetime


class SubscriptionCreate(BaseModel):
    """Send alerts by e-mail to an address, for every rule and site or some of them."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    rules: list[str] | None = None
    site_id: str | None = None


class SubscriptionRead(ReadModel):
    """An e-mail subscription."""

    id: int
    email: str
    rules: list[str] | None
    site_id: str | None
    created_by: str | None
    created_at: UtcDatetime
