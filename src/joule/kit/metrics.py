"""Prometheus metrics of one Joule process, in its own registry (several may run in one test).

Per-message cost is one dict lookup and a counter increment. Labels are bounded sets (OCPP action
names, outcomes, rule names); never station ids, which would explode the series count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from joule.kit.errors import StationCallError, StationOffline, StationTimeout

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _ConnectedStations(Collector):
    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "joule_connected_stations", "Stations holding a WebSocket on this node", self._count()
        )


class JouleMetrics:
    """The metric families Joule exports on /metrics."""

    def __init__(self, known_actions: frozenset[str]) -> None:
        # A station may send any action name: unknown ones share one label ("other").
        self._known_actions = known_actions
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.frames = Counter(
            "joule_ocpp_frames",
            "OCPP frames by direction, message type and action",
            ["direction", "message_type", "action"],
            registry=r,
        )
        self.handler_latency = Histogram(
            "joule_ocpp_handler_seconds",
            "Time from a station's CALL to Joule's answer (handler, commit included)",
            ["action"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.commands = Counter(
            "joule_commands",
            "CSMS-initiated commands sent to stations, by action and outcome",
            ["action", "outcome"],
            registry=r,
        )
        self.command_latency = Histogram(
            "joule_command_seconds",
            "Time until a station answered a CSMS command",
            ["action"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts = Gauge(
            "joule_alerts", "Unresolved alerts by rule and state", ["rule", "state"], registry=r
        )
        self._alert_keys: set[tuple[str, str]] = set()

    def action_label(self, action: str | None) -> str:
        """The action as a label value: an OCPP action name, "other" or "none"."""
        if not action:
            return "none"
        return action if action in self._known_actions else "other"

    def track_connections(self, count: Callable[[], int]) -> None:
        """Export the number of connected stations, read at scrape time."""
        self.registry.register(_ConnectedStations(count))

    def set_alert_counts(self, counts: dict[tuple[str, str], int]) -> None:
        """Replace the unresolved-alert gauge values (a series that dropped to 0 shows 0)."""
        for key in self._alert_keys - set(counts):
            self.alerts.labels(*key).set(0)
        for key, n in counts.items():
            self.alerts.labels(*key).set(n)
        self._alert_keys |= set(counts)

    def exposition(self) -> bytes:
        """The text exposition format for a scrape."""
        return generate_latest(self.registry)


def outcome_of(error: BaseException) -> str:
    """The command outcome an exception stands for (the command log's words)."""
    if isinstance(error, StationOffline):
        return "offline"
    if isinstance(error, StationTimeout):
        return "timeout"
    if isinstance(error, StationCallError):
        return "callerror"
    return "failed"


# -- wrappers the runtime puts around the gateway's ports (structural types: kit imports no room)


class _Observer(Protocol):
    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
    ) -> None: ...


class _Sink(Protocol):
    async def dispatch(self, call: Any) -> dict[str, Any]: ...


class _Sender(Protocol):
    async def call(
        self,
        station_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float,
        message_id: str,
    ) -> dict[str, Any]: ...

    def is_connected(self, station_id: str) -> bool: ...


class MeteredObserver:
    """A frame observer that counts frames, then hands them on."""

    def __init__(self, inner: _Observer, metrics: JouleMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._frames = metrics.frames
        self._children: dict[tuple[str, int, str], Any] = {}

    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
    ) -> None:
        """Count the frame and pass it on."""
        key = (direction, message_type, self._metrics.action_label(action))
        child = self._children.get(key)
        if child is None:
            child = self._frames.labels(direction, str(message_type), key[2])
            self._children[key] = child
        child.inc()
        self._inner.frame(station_id, direction, message_type, message_id, action, text)


class MeteredSink:
    """A call sink that times how long the core takes to answer each station CALL."""

    def __init__(self, inner: _Sink, metrics: JouleMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._latency = metrics.handler_latency
        # One child per label (a bounded set): labels() on every message cost more than observe().
        self._children: dict[str, Any] = {}

    async def dispatch(self, call: Any) -> dict[str, Any]:
        """Dispatch and observe the latency (errors included: they are answers too)."""
        started = time.perf_counter()
        try:
            return await self._inner.dispatch(call)
        finally:
            label = self._metrics.action_label(call.action)
            child = self._children.get(label)
            if child is None:
                child = self._children[label] = self._latency.labels(label)
            child.observe(time.perf_counter() - started)


class MeteredSender:
    """A command sender that counts commands by outcome (answered, callerror, timeout, offline)."""

    def __init__(self, inner: _Sender, metrics: JouleMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def is_connected(self, station_id: str) -> bool:
        """As the wrapped sender."""
        return self._inner.is_connected(station_id)

    async def call(
        self,
        station_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float,
        message_id: str,
    ) -> dict[str, Any]:
        """Send through the wrapped sender; count the outcome."""
        label = self._metrics.action_label(action)
        started = time.perf_counter()
        try:
            result = await self._inner.call(
                station_id, action, payload, timeout=timeout, message_id=message_id
            )
        except BaseException as error:
            self._metrics.commands.labels(label, outcome_of(error)).inc()
            raise
        self._metrics.command_latency.labels(label).observe(time.perf_counter() - started)
        self._metrics.commands.labels(label, "answered").inc()
        return result
