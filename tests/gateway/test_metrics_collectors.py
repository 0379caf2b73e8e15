"""Joule's lean per-message metric collectors expose exactly what prometheus_client's own
Counter and Histogram would for the same frames and latencies (the scrape format is the contract;
only the optional `_created` series is not exported)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from joule.kit.metrics import _LATENCY_BUCKETS, FrameCounts, JouleMetrics, LatencyHistogram

SECONDS = st.one_of(st.sampled_from([*_LATENCY_BUCKETS, 0.0]), st.floats(0, 30))
ACTIONS = st.sampled_from(["Heartbeat", "MeterValues", "other"])


def _lines(registry: CollectorRegistry) -> list[str]:
    return [
        line
        for line in generate_latest(registry).decode().splitlines()
        if "_created" not in line and not line.startswith("# HELP")
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ACTIONS, SECONDS), max_size=30))
def test_the_latency_histogram_exposes_what_prometheus_would(
    observations: list[tuple[str, float]],
) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("h_seconds", "h", ["action"], buckets=_LATENCY_BUCKETS, registry=theirs)
    lean = LatencyHistogram("h_seconds", "h", "action")
    ours.register(lean)
    for action, seconds in observations:
        reference.labels(action).observe(seconds)
        lean.observe(action, seconds)
    assert _lines(ours) == _lines(theirs)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["in", "out"]), st.sampled_from([2, 3, 4]), ACTIONS)))
def test_frame_counts_expose_what_a_prometheus_counter_would(
    frames: list[tuple[str, int, str]],
) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    labels = ["direction", "message_type", "action"]
    reference = Counter("joule_ocpp_frames", "f", labels, registry=theirs)
    lean = FrameCounts()
    ours.register(lean)
    for direction, message_type, action in frames:
        reference.labels(direction, str(message_type), action).inc()
        key = (direction, str(message_type), action)
        lean.counts[key] = lean.counts.get(key, 0) + 1
    assert _lines(ours) == _lines(theirs)


def test_unknown_actions_share_one_label() -> None:
    from joule.kit.metrics import MeteredObserver

    class Quiet:
        def frame(self, *args: object) -> None:
            pass

    metrics = JouleMetrics(frozenset({"Heartbeat"}))
    observer = MeteredObserver(Quiet(), metrics)
    for n in range(5):
        observer.frame("CS-1", "in", 2, str(n), f"Made-Up-{n}", "[]")
    observer.frame("CS-1", "in", 2, "h", "Heartbeat", "[]")
    assert metrics.frames.counts == {("in", "2", "other"): 5, ("in", "2", "Heartbeat"): 1}
