"""The alert evaluator: runs the rules every interval, and soon after a relevant domain event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from joule.domain.alerting.rules import RuleSettings, Snapshot
from joule.domain.alerting.service import (
    CHANGES_PER_UNIT,
    AlertChanged,
    AlertPlan,
    KnownAlert,
    UptimeMemo,
    apply_plan,
    findings_of,
    known_alerts,
    load_snapshot,
    open_counts,
    plan_reconcile,
    rule_settings,
)
from joule.domain.events import (
    ConnectorStatusChanged,
    SecurityEventReceived,
    StationBooted,
    StationConnected,
    StationDisconnected,
    TransactionEnded,
    TransactionStarted,
)
from joule.kit.clock import Clock
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

Settings = dict[str, RuleSettings]
Known = dict[tuple[str, str], KnownAlert]

# Events after which a condition may have appeared or cleared: evaluate without waiting.
_WAKING = (
    ConnectorStatusChanged,
    SecurityEventReceived,
    StationBooted,
    StationConnected,
    StationDisconnected,
    TransactionEnded,
    TransactionStarted,
)
_DEBOUNCE_S = 0.5  # a burst of StatusNotifications costs one evaluation
# An evaluation reads every station of the network: at 10 000 stations a boot storm's events
# would have it run back to back and take the core's CPU from the stations (T7). The next
# evaluation waits until this evaluator has used at most this share of the time since the last.
EVALUATION_SHARE = 0.1


def rest_after(took_s: float, share: float, most_s: float) -> float:
    """How long to wait after an evaluation of `took_s` so evaluations use at most `share`;
    never longer than `most_s` (the periodic interval: an event must not wait past it)."""
    rest = took_s * (1.0 / share - 1.0) if 0 < share < 1 else 0.0
    return min(rest, most_s)


class AlertEvaluator:
    """Evaluates every rule over the network and reconciles the alerts table."""

    EVENTS = _WAKING  # the bus events on_event takes

    def __init__(
        self,
        committer: GroupCommitter,
        clock: Clock,
        *,
        interval_s: float,
        heartbeat_interval_s: int,
        on_counts: Callable[[dict[tuple[str, str], int]], None] | None = None,
        share: float = EVALUATION_SHARE,
    ) -> None:
        self._committer = committer
        self._clock = clock
        self._interval_s = interval_s
        self._heartbeat_interval_s = heartbeat_interval_s
        self._on_counts = on_counts
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.evaluations = 0
        self._uptimes = UptimeMemo()
        self._share = share
        self._rest_s = 0.0  # how long the last evaluation asks the next one to wait

    async def on_event(self, event: object) -> None:
        """Bus subscriber: a relevant event brings the next evaluation forward."""
        if isinstance(event, _WAKING):
            self._wake.set()

    async def start(self) -> None:
        """Start the periodic evaluation."""
        self._task = asyncio.create_task(self._run(), name="alert-evaluator")

    async def stop(self) -> None:
        """Stop evaluating (an evaluation in flight is cancelled; it commits nothing half-way)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def evaluate(self) -> list[AlertChanged]:
        """Run every rule once now and return the alerts raised and resolved."""
        async with self._lock:
            now = self._clock.now()

            async def read(uow: UnitOfWork) -> tuple[Settings, Snapshot, Known]:
                settings = await rule_settings(uow.session)
                snapshot = await load_snapshot(
                    uow.session,
                    settings,
                    now=now,
                    heartbeat_interval_s=self._heartbeat_interval_s,
                    uptimes=self._uptimes,
                )
                return settings, snapshot, await known_alerts(uow.session)

            settings, snapshot, known = await self._committer.read(read)
            findings = await findings_of(
                snapshot, settings, now=now, heartbeat_interval_s=self._heartbeat_interval_s
            )
            plan = await plan_reconcile(known, findings, now=now)
            changes: list[AlertChanged] = []
            # Small units, one after the other: a station's unit waits for one part at most.
            # Nothing to change (the usual case): no part, so no unit and no transaction.
            for part in plan.parts(CHANGES_PER_UNIT):

                async def write(uow: UnitOfWork, part: AlertPlan = part) -> list[AlertChanged]:
                    return await apply_plan(uow, part, now=now)

                changes.extend(await self._committer.run(write))
            self.evaluations += 1
            if self._on_counts is not None:
                await self.refresh_counts()
            return changes

    async def refresh_counts(self) -> None:
        """Report the unresolved alerts by (rule, state) to the counts callback."""
        if self._on_counts is None:
            return

        async def count(uow: UnitOfWork) -> dict[tuple[str, str], int]:
            return await open_counts(uow.session)

        self._on_counts(await self._committer.read(count))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            if self._wake.is_set():
                await asyncio.sleep(max(_DEBOUNCE_S, self._rest_s))
                self._wake.clear()
            started = time.perf_counter()
            try:
                await self.evaluate()
            except Exception:
                # Monitoring must outlive a bad evaluation (e.g. the database busy for a while).
                log.exception("alert evaluation failed")
            took = time.perf_counter() - started
            self._rest_s = rest_after(took, self._share, self._interval_s)
