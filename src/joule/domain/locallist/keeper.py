"""When lists are synced: on access changes, on (re)connect and boot, and periodically.

- AccessChanged (tokens, drivers, groups, memberships, rules): debounced, then every connected
  station of the organisation's network (same root organisation; None = every network) is
  synced; a station whose list does not change receives nothing.
- StationBooted (Accepted): the station may have lost its list or been replaced: ask its limits
  again, GetLocalListVersion, then the update it needs. StationConnected (a reconnect without a
  boot): GetLocalListVersion and the update it needs (changes made while it was away).
- Every `interval_s`: reconcile every connected station (catches anything missed); a station
  marked unsupported is left alone until it boots again.
Work runs with bounded concurrency; syncs of one station never overlap (the service's locks).

Connects cost no read on the connect path: a (re)connect or boot only queues its station. Each
reconciliation starts after `settle_s` plus a random jitter (up to `jitter_s`), and starts are
paced to at most `rate_per_s` a second, so a storm of N connects becomes a steady trickle of
reconciliations behind the handshakes and boots instead of N reads at once (issues #3/#5).
The queue is one deque served by one task (starts are in time order by construction), not a
sleeping task per station: a 10 000-station storm queued 10 000 coroutines, frames and timers
for up to ten minutes, and every full GC collection walked them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from joule.domain.access.scope import organisation_edges, subtree
from joule.domain.events import AccessChanged, StationBooted, StationConnected
from joule.domain.locallist.service import LocalListService
from joule.storage.committer import GroupCommitter
from joule.storage.repositories import local_list as repo
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def root_of(parents: dict[str, str | None], organisation_id: str) -> str:
    """The root organisation of a network (the top of the tree above `organisation_id`)."""
    seen = {organisation_id}
    current = organisation_id
    while (parent := parents.get(current)) is not None and parent not in seen:
        seen.add(parent)
        current = parent
    return current


def network_stations(
    parents: dict[str, str | None],
    owners: Iterable[tuple[str, str | None]],
    organisations: Iterable[str | None],
) -> list[str]:
    """Stations (id, owner) of the networks of `organisations` (None: every station)."""
    wanted = set(organisations)
    everything = None in wanted
    members: set[str] = set()
    for org in wanted:
        if org is not None:
            members |= subtree(parents, root_of(parents, org))
    return [
        station_id
        for station_id, owner in owners
        if everything or (owner is not None and owner in members)
    ]


def paced_start(
    now: float, settle_s: float, jitter: float, next_slot: float, rate_per_s: float
) -> tuple[float, float]:
    """When a queued reconciliation starts, and the earliest start of the one after it.

    `jitter` is this station's random extra settle delay; starts are at least 1/rate apart.
    """
    at = max(now + settle_s + jitter, next_slot)
    return at, at + (1.0 / rate_per_s if rate_per_s > 0 else 0.0)


@dataclass
class LocalListKeeper:
    """Subscribes to the bus and keeps every station's list in step (see module docstring)."""

    EVENTS = (AccessChanged, StationBooted, StationConnected)  # the bus events on_event takes

    service: LocalListService
    committer: GroupCommitter
    debounce_s: float = 0.5
    settle_s: float = 1.0  # let a boot's answer reach the station before the first CALL
    interval_s: float = 900.0
    concurrency: int = 4
    node: str | None = None  # this process's node name (Station.connected_node)
    rate_per_s: float = 20.0  # reconciliations started a second after connects (the trickle)
    jitter_s: float | None = None  # random extra settle delay; None: half of settle_s
    _pending_orgs: set[str | None] = field(default_factory=set)
    _flush: asyncio.Task[None] | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _wanted: dict[str, bool] = field(default_factory=dict)  # station → rediscover
    _running: set[str] = field(default_factory=set)
    _periodic: asyncio.Task[None] | None = None
    _gate: asyncio.Semaphore | None = None
    _next_slot: float = 0.0  # loop time before which no further reconciliation starts
    _queue: deque[tuple[float, str]] = field(default_factory=deque)  # (start at, station)
    _pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the periodic reconciliation."""
        self._gate = asyncio.Semaphore(self.concurrency)
        if self.interval_s > 0:
            self._periodic = asyncio.create_task(self._every(), name="local-lists")

    async def stop(self) -> None:
        """Cancel what is pending or running (a half-sent update is reconciled next start)."""
        tasks = [
            t for t in (self._periodic, self._flush, self._pump, *self._tasks) if t is not None
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._queue.clear()

    @property
    def busy(self) -> bool:
        """Whether any sync is pending or running (tests and drain wait on it)."""
        flushing = self._flush is not None and not self._flush.done()
        return flushing or bool(self._tasks) or bool(self._queue) or bool(self._pending_orgs)

    async def on_event(self, event: object) -> None:
        """Bus subscriber: never blocks the publisher, work goes to background tasks."""
        if isinstance(event, AccessChanged):
            self._pending_orgs.add(event.organisation_id)
            if self._flush is None or self._flush.done():
                self._flush = asyncio.create_task(self._debounced(), name="local-lists-changed")
        elif isinstance(event, StationBooted) and event.status == "Accepted":
            self._spawn(event.station_id, rediscover=True)
        elif isinstance(event, StationConnected):
            self._spawn(event.station_id, rediscover=False)

    def _spawn(self, station_id: str, *, rediscover: bool) -> None:
        # A connect is usually followed by a boot: both land in one run (rediscover wins);
        # one that arrives while a run is under way gets a run of its own after it.
        self._wanted[station_id] = self._wanted.get(station_id, False) or rediscover
        if station_id not in self._running:
            self._running.add(station_id)
            self._queue.append((self._start_at(), station_id))
            if self._pump is None or self._pump.done():
                self._pump = asyncio.create_task(self._serve_queue(), name="local-lists-queue")

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_at(self) -> float:
        """Loop time at which this station's reconciliation may start: settle plus jitter, and
        no earlier than 1/rate after the one before (a connect storm becomes a trickle)."""
        now = asyncio.get_running_loop().time()
        jitter = self.settle_s / 2 if self.jitter_s is None else self.jitter_s
        at, self._next_slot = paced_start(
            now, self.settle_s, random.uniform(0.0, jitter), self._next_slot, self.rate_per_s
        )
        return at

    async def _serve_queue(self) -> None:
        """Start each queued reconciliation at its time (the queue is in time order)."""
        loop = asyncio.get_running_loop()
        while self._queue:
            at, station_id = self._queue[0]
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # the queue may have been cleared (stop) while this slept
            self._queue.popleft()
            if not self.service.sender.is_connected(station_id):
                # Gone again (or still waiting for its turn when it left): nothing can be sent,
                # and its next connect queues a reconciliation of its own. No task, no read.
                self._wanted.pop(station_id, None)
                self._running.discard(station_id)
                continue
            self._background(self._reconcile(station_id))

    async def _reconcile(self, station_id: str) -> None:
        try:
            while station_id in self._wanted:
                rediscover = self._wanted.pop(station_id)
                await self._guarded(station_id, rediscover=rediscover, reconcile=True)
        finally:
            self._running.discard(station_id)

    async def _guarded(self, station_id: str, *, rediscover: bool, reconcile: bool) -> None:
        assert self._gate is not None, "start() first"
        if not self.service.sender.is_connected(station_id):
            # Gone again (or still waiting for its turn when it left): nothing can be sent, and
            # its next connect queues a reconciliation of its own. No read for nothing.
            return
        async with self._gate:
            if not self.service.sender.is_connected(station_id):
                return  # it left while this waited for the gate
            try:
                if reconcile:
                    result = await self.service.reconcile(station_id, rediscover=rediscover)
                else:
                    result = await self.service.sync(station_id)
            except Exception:
                log.exception("local list sync of %s failed", station_id)
                return
        if result.update_type is not None or result.error:
            log.info(
                "local list of %s: %s %s, %d messages, version %d%s",
                station_id,
                result.status,
                result.update_type,
                result.messages,
                result.version,
                f" ({result.error})" if result.error else "",
            )

    async def _debounced(self) -> None:
        await asyncio.sleep(self.debounce_s)
        organisations, self._pending_orgs = self._pending_orgs, set()
        stations = []
        for station_id in await self.affected(organisations):
            if station_id in self._running:
                # Its (re)connect reconciliation is queued or under way: that computes the list
                # from what is committed when it reads, so a queued one already sees this change
                # and one under way runs once more after it (_reconcile). A change during a
                # connect storm is then not a second round over every station that just came.
                self._wanted.setdefault(station_id, False)
            else:
                stations.append(station_id)
        await asyncio.gather(
            *(self._guarded(s, rediscover=False, reconcile=False) for s in stations)
        )
        if self._pending_orgs:  # changes that arrived while this round ran
            self._flush = asyncio.create_task(self._debounced(), name="local-lists-changed")

    async def affected(self, organisations: Iterable[str | None]) -> list[str]:
        """The connected stations of the networks of `organisations` (on any worker: the sender
        relays to the sibling holding the socket; the change was published in this process)."""

        async def work(uow: UnitOfWork) -> list[str]:
            parents = await organisation_edges(uow.session)
            stations = [s for s in await repo.station_presence(uow.session) if s.online]
            owners = [(s.station_id, s.organisation_id) for s in stations]
            return network_stations(parents, owners, organisations)

        return await self.committer.read(work)

    async def held_here(self) -> list[str]:
        """The connected stations this process holds (with sibling workers, each reconciles its
        own: the periodic round is not repeated by every worker)."""

        async def work(uow: UnitOfWork) -> list[str]:
            return [
                s.station_id
                for s in await repo.station_presence(uow.session)
                if s.online and (self.node is None or s.node == self.node)
            ]

        return await self.committer.read(work)

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                stations = await self.held_here()
            except Exception:
                log.exception("could not list stations for local list reconciliation")
                continue
            await asyncio.gather(
                *(self._guarded(s, rediscover=False, reconcile=True) for s in stations)
            )
