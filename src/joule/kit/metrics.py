"""Prometheus metrics of one Joule process, in its own registry (several may run in one test).

Per-message cost is one dict lookup and a counter increment. Labels are bounded sets (OCPP action
names, outcomes, rule names); never station ids, which would explode the series count.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from joule.kit.errors import StationCallError, StationOffline, StationTimeout

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LATENCY_LE = (*(repr(float(bound)) for bound in _LATENCY_BUCKETS), "+Inf")  # bucket labels
_KEY_MEMO = 4096  # (direction, type, action as sent) → label key; actions beyond it are looked up


class _ConnectedStations(Collector):
    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "joule_connected_stations", "Stations holding a WebSocket on this node", self._count()
        )


class FrameCounts(Collector):
    """joule_ocpp_frames_total as plain integers, turned into a family at scrape time.

    Two frames per message (T2): a prometheus_client Counter child's inc() takes a lock and
    checks observability each time, ~1 µs a frame; a dict increment is a tenth of it. Only the
    event loop writes; a scrape reads a copy. (The optional `_created` series is not exported.)
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = CounterMetricFamily(
            "joule_ocpp_frames",
            "OCPP frames by direction, message type and action",
            labels=["direction", "message_type", "action"],
        )
        for key, count in list(self.counts.items()):
            family.add_metric(list(key), count)
        yield family


class LatencyHistogram(Collector):
    """A labelled histogram kept as bucket counts, turned into a family at scrape time (one
    bisect and two additions per observation, where a prometheus_client Histogram takes a lock
    per bucket it walks and per sum)."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self._name, self._documentation, self._label = name, documentation, label
        self._bounds = _LATENCY_BUCKETS
        self.series: dict[str, tuple[list[int], list[float]]] = {}  # label → (counts, [sum])

    def observe(self, label: str, seconds: float) -> None:
        """Count one observation of `seconds` under `label`."""
        found = self.series.get(label)
        if found is None:
            found = self.series[label] = ([0] * (len(self._bounds) + 1), [0.0])
        # Bucket i counts values ≤ bound i and > bound i-1 (Prometheus `le`): bisect_left.
        found[0][bisect_left(self._bounds, seconds)] += 1
        found[1][0] += seconds

    def collect(self) -> Iterable[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=[self._label])
        for label, (counts, total) in list(self.series.items()):
            running = 0
            buckets: list[tuple[str, float]] = []
            for le, count in zip(_LATENCY_LE, counts, strict=True):
                running += count
                buckets.append((le, running))
            family.add_metric([label], buckets, total[0])
        yield family


class JouleMetrics:
    """The metric families Joule exports on /metrics."""

    def __init__(self, known_actions: frozenset[str]) -> None:
        # A station may send any action name: unknown ones share one label ("other").
        self._known_actions = known_actions
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The two per-message series are lean collectors (T2); the rest are prometheus_client's.
        self.frames = FrameCounts()
        r.register(self.frames)
        self.handler_latency = LatencyHistogram(
            "joule_ocpp_handler_seconds",
            "Time from a station's CALL to Joule's answer (handler, commit included)",
            "action",
        )
        r.register(self.handler_latency)
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
        repaired: bool = False,
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
        self._counts = metrics.frames.counts
        self._keys: dict[tuple[str, int, str | None], tuple[str, str, str]] = {}

    def frame(
        self,
        station_id: str,
        direction: str,
        message_type: int,
        message_id: str,
        action: str | None,
        text: str,
        repaired: bool = False,
    ) -> None:
        """Count the frame and pass it on."""
        raw = (direction, message_type, action)
        key = self._keys.get(raw)
        if key is None:
            # Bounded: unknown actions share the label "other" (and this memo stays small).
            key = (direction, str(message_type), self._metrics.action_label(action))
            if len(self._keys) < _KEY_MEMO:
                self._keys[raw] = key
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        self._inner.frame(station_id, direction, message_type, message_id, action, text, repaired)


class MeteredSink:
    """A call sink that times how long the core takes to answer each station CALL."""

    def __init__(self, inner: _Sink, metrics: JouleMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._latency = metrics.handler_latency

    async def dispatch(self, call: Any) -> dict[str, Any]:
        """Dispatch and observe the latency (errors included: they are answers too)."""
        started = time.perf_counter()
        try:
            return await self._inner.dispatch(call)
        finally:
            self._latency.observe(
                self._metrics.action_label(call.action), time.perf_counter() - started
            )


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
