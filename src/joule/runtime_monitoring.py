"""Composition of monitoring (part of the composition root): metrics, alerts, delivery, bulk.

runtime.py calls this in a few places so its own start/stop stay readable: the metered ports
go around the gateway's sink, observer and command sender; the evaluator and the notifier
subscribe to the bus; the routes join the API app.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from joule.api import monitoring as api_monitoring
from joule.bus.port import CommandSender, EventBus
from joule.config import Settings
from joule.domain.alerting.delivery import Notifier, RetryPolicy, SmtpSettings
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.domain.command.bulk import BulkRunner
from joule.gateway.ports import CallSink, FrameObserver
from joule.gateway.server import Gateway
from joule.kit.clock import Clock
from joule.kit.metrics import JouleMetrics, MeteredObserver, MeteredSender, MeteredSink
from joule.ocpp.catalogue import ALL_ACTIONS
from joule.storage.committer import GroupCommitter


class Monitoring:
    """Metrics, the alert evaluator, alert delivery and bulk jobs of one Joule process."""

    def __init__(self, settings: Settings, clock: Clock, committer: GroupCommitter) -> None:
        self.metrics = JouleMetrics(ALL_ACTIONS)
        self.evaluator = AlertEvaluator(
            committer,
            clock,
            interval_s=settings.alert_interval_s,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            on_counts=self.metrics.set_alert_counts,
        )
        self.notifier = Notifier(
            committer,
            clock,
            retry=RetryPolicy(
                attempts=settings.webhook_attempts,
                backoff_s=settings.webhook_backoff_s,
                timeout_s=settings.webhook_timeout_s,
            ),
            smtp=SmtpSettings(
                host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from
            ),
        )
        self.bulk = BulkRunner(committer, clock, concurrency=settings.bulk_concurrency)
        self._unsubscribe: list[Callable[[], None]] = []
        self._started = False

    def metered_sink(self, sink: CallSink) -> CallSink:
        """The gateway's sink, timing every station CALL per action."""
        return MeteredSink(sink, self.metrics)

    def metered_observer(self, observer: FrameObserver) -> FrameObserver:
        """The gateway's observer, counting frames per direction and action."""
        return MeteredObserver(observer, self.metrics)

    def metered_sender(self, sender: CommandSender) -> CommandSender:
        """The command sender, counting commands per action and outcome."""
        return MeteredSender(sender, self.metrics)

    async def start(self, app: FastAPI, bus: EventBus, *, connected: Callable[[], int]) -> None:
        """Add the routes, subscribe to the bus, start evaluating and delivering."""
        self.metrics.track_connections(connected)
        api_monitoring.install(
            app, bulk_runner=self.bulk, evaluator=self.evaluator, registry=self.metrics
        )
        await self.notifier.start()
        self._unsubscribe = [
            bus.subscribe(self.evaluator.on_event, AlertEvaluator.EVENTS),
            bus.subscribe(self.notifier.on_event, Notifier.EVENTS),
        ]
        await self.evaluator.start()
        self._started = True

    async def stop(self) -> None:
        """Stop evaluating, then delivering, then bulk jobs."""
        if not self._started:
            return
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.evaluator.stop()
        await self.notifier.stop()
        await self.bulk.stop()
        self._started = False


def connected_count(gateway: Gateway) -> Callable[[], int]:
    """The number of stations the gateway holds, read when scraped."""
    return lambda: sum(1 for conn in gateway.connections.values() if not conn.closed)
