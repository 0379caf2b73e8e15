"""Alert delivery: signed webhooks with retries and a delivery log, and e-mail over SMTP.

Fed by the bus (AlertChanged events are published only after the alert is committed), so a
slow receiver never holds up evaluation: events are queued and sent by background tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import smtplib
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import orjson

from joule.domain.alerting.service import AlertChanged
from joule.domain.alerting.subscriptions import (
    active_webhooks,
    check_url,
    list_subscriptions,
    matches,
    record_delivery,
)
from joule.kit.clock import Clock
from joule.kit.errors import Invalid
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Joule-Signature"
DELIVERED_EVENTS = frozenset({"alert.raised", "alert.resolved"})
_RETRY_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">.

    The timestamp is signed with the body so a receiver can refuse replays of old deliveries.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """True when the header is a valid signature of body with secret (for receivers, tests)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        expected = sign(secret, int(fields["t"]), body)
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, header)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where e-mail goes out (no host: no e-mail)."""

    host: str | None
    port: int
    sender: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts and exponential back-off (backoff_s, 2×, 4× …) for every delivery."""

    attempts: int
    backoff_s: float
    timeout_s: float


class Notifier:
    """Delivers alert changes to webhooks and e-mail subscribers."""

    EVENTS = (AlertChanged,)  # the bus events on_event takes

    def __init__(
        self, committer: GroupCommitter, clock: Clock, *, retry: RetryPolicy, smtp: SmtpSettings
    ) -> None:
        self._committer = committer
        self._clock = clock
        self._retry = retry
        self._smtp = smtp
        self._queue: asyncio.Queue[AlertChanged] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def on_event(self, event: object) -> None:
        """Bus subscriber: queue alert changes worth telling someone about."""
        if isinstance(event, AlertChanged) and event.event in DELIVERED_EVENTS:
            self._queue.put_nowait(event)

    async def start(self) -> None:
        """Start the delivery loop."""
        # Redirects are not followed: a 30x to an internal address would bypass check_url.
        self._client = httpx.AsyncClient(timeout=self._retry.timeout_s, follow_redirects=False)
        self._runner = asyncio.create_task(self._run(), name="alert-delivery")

    async def stop(self) -> None:
        """Stop delivering; deliveries still retrying are abandoned (their attempts are logged)."""
        for task in [self._runner, *self._tasks]:
            if task is not None:
                task.cancel()
        for task in [self._runner, *self._tasks]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._client is not None:
            await self._client.aclose()

    async def idle(self) -> None:
        """Wait until every queued change has been handled and every delivery finished (tests)."""
        while not self._queue.empty() or self._tasks:
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self._fan_out(change)
            except Exception:
                log.exception("could not fan out %s of alert %s", change.event, change.alert["id"])

    async def _fan_out(self, change: AlertChanged) -> None:
        async def targets(uow: UnitOfWork) -> tuple[list[tuple[int, str, str]], list[str]]:
            hooks = [
                (h.id, h.url, h.secret)
                for h in await active_webhooks(uow.session)
                if matches(h.rules, h.site_id, change.alert)
            ]
            mails = sorted(
                {
                    s.email
                    for s in await list_subscriptions(uow.session)
                    if matches(s.rules, s.site_id, change.alert)
                }
            )
            return hooks, mails

        hooks, mails = await self._committer.read(targets)
        for webhook_id, url, secret in hooks:
            self._spawn(self._deliver_webhook(webhook_id, url, secret, change))
        if mails and self._smtp.host:
            self._spawn(self._deliver_mail(mails, change))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_webhook(
        self, webhook_id: int, url: str, secret: str, change: AlertChanged
    ) -> None:
        assert self._client is not None
        delivery_id = str(uuid.uuid4())  # the same on every retry: receivers can de-duplicate
        body = orjson.dumps(
            {
                "id": delivery_id,
                "event": change.event,
                "at": change.at.isoformat(),
                "alert": change.alert,
            }
        )
        for attempt in range(1, self._retry.attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                await check_url(url)
                now = self._clock.now()
                response = await self._client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": "Joule-Alerts",
                        "X-Joule-Event": change.event,
                        "X-Joule-Delivery": delivery_id,
                        SIGNATURE_HEADER: sign(secret, int(now.timestamp()), body),
                    },
                )
                status = response.status_code
            except Invalid as refused:
                error = str(refused)
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            delivered = status is not None and 200 <= status < 300
            await self._log(webhook_id, change, attempt, status, error, delivered)
            final = delivered or (
                status is not None and status < 500 and status not in _RETRY_STATUSES
            )
            if final or attempt == self._retry.attempts:
                return
            await asyncio.sleep(self._retry.backoff_s * 2 ** (attempt - 1))

    async def _log(
        self,
        webhook_id: int,
        change: AlertChanged,
        attempt: int,
        status: int | None,
        error: str | None,
        delivered: bool,
    ) -> None:
        at = self._clock.now()

        async def work(uow: UnitOfWork) -> None:
            record_delivery(
                uow.session,
                webhook_id=webhook_id,
                alert_id=int(change.alert["id"]),
                event=change.event,
                attempt=attempt,
                status_code=status,
                error=error,
                delivered=delivered,
                at=at,
            )

        try:
            await self._committer.run(work)
        except Exception:
            # The webhook may have been deleted meanwhile; the delivery itself is unaffected.
            log.warning("could not log delivery %s of webhook %s", attempt, webhook_id)

    async def _deliver_mail(self, recipients: list[str], change: AlertChanged) -> None:
        message = _email(self._smtp.sender, recipients, change)
        for attempt in range(1, self._retry.attempts + 1):
            try:
                await asyncio.to_thread(self._send, message, recipients)
                return
            except (OSError, smtplib.SMTPException) as error:
                log.warning(
                    "e-mail for alert %s, attempt %s: %s", change.alert["id"], attempt, error
                )
            if attempt < self._retry.attempts:
                await asyncio.sleep(self._retry.backoff_s * 2 ** (attempt - 1))

    def _send(self, message: EmailMessage, recipients: list[str]) -> None:
        assert self._smtp.host is not None
        with smtplib.SMTP(self._smtp.host, self._smtp.port, timeout=self._retry.timeout_s) as smtp:
            smtp.send_message(message, to_addrs=recipients)


def _email(sender: str, recipients: list[str], change: AlertChanged) -> EmailMessage:
    alert = change.alert
    verb = "RESOLVED" if change.event == "alert.resolved" else str(alert["severity"]).upper()
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"[Joule {verb}] {alert['message']}"
    lines = [
        f"{change.event}: {alert['message']}",
        "",
        f"Alert:    #{alert['id']} ({alert['rule']})",
        f"Station:  {alert['station_id']}",
        f"Site:     {alert['site_id'] or '-'}",
        f"Severity: {alert['severity']}",
        f"Raised:   {alert['raised_at']}",
    ]
    if alert.get("resolved_at"):
        lines.append(f"Resolved: {alert['resolved_at']}")
    if alert.get("details"):
        lines += ["", orjson.dumps(alert["details"], option=orjson.OPT_INDENT_2).decode()]
    message.set_content("\n".join(lines) + "\n")
    return message
