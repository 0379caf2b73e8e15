"""Handing the event loop back during long work on it (performance.md T5: Heartbeat p99 ≤ 5 ms).

Every station's frames are answered on one event loop. Work that grows with the network (a
batch of hundreds of units, an evaluation over every station) would hold the loop for its whole
run; it awaits a Pacer between items instead, which yields once a slice of work has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

# The longest slice of work between two yields, for work the stations wait for (the group
# committer's batch: their answers follow its COMMIT).
YIELD_EVERY_S = 0.002
# …and for work nobody waits for (alert evaluation, uptime). A frame needs several loop turns
# (readable socket → its handler task → the answer), and each turn waits for one slice of the
# background work: 2 ms slices add ~6 ms to every frame answered while it runs (measured with a
# 0.5 ms timer: it woke every 6 ms), over T5's 5 ms; 0.5 ms slices add ~1.5 ms.
BACKGROUND_EVERY_S = 0.0005


class Pacer:
    """Yields to the event loop once `every_s` of work has passed since the last yield."""

    __slots__ = ("_every_s", "_since")

    def __init__(self, every_s: float = YIELD_EVERY_S) -> None:
        self._every_s = every_s
        self._since = time.perf_counter()

    async def __call__(self) -> None:
        """Let other tasks run if this one has held the loop long enough."""
        now = time.perf_counter()
        if now - self._since >= self._every_s:
            await asyncio.sleep(0)
            self._since = time.perf_counter()


async def paced(items: Iterable[T], pace: Pacer | None = None) -> AsyncIterator[T]:
    """The items, yielding to the event loop between them whenever a slice has passed
    (background slices unless `pace` says otherwise)."""
    pace = pace or Pacer(BACKGROUND_EVERY_S)
    for item in items:
        yield item
        await pace()
