"""kit/gc_tuning: what `joule serve` does to the collector once started (in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = (
    "import gc\n"
    "from joule.kit.gc_tuning import tune_for_serving\n"
    "kept = [[i] for i in range(5000)]\n"
    "tune_for_serving({threshold})\n"
    "print(gc.get_threshold()[0], gc.get_freeze_count() >= 5000)\n"
)


def _probe(threshold: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(threshold=threshold)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.split()


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    assert _probe(50_000) == ["50000", "True"]


def test_zero_keeps_pythons_defaults() -> None:
    assert _probe(0) == ["700", "False"]
