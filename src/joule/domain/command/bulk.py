"""Bulk actions: one command over a selection of stations, with bounded concurrency.

Every station's command goes through the CommandService, so each one is in the audit log with
its own message id and outcome. A job's progress lives in this process (jobs are short-lived and
their durable record is the command log); the most recent jobs are kept for GET /bulk/{job}.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.clock import Clock
from joule.kit.errors import (
    Invalid,
    JouleError,
    NotFound,
    StationCallError,
    StationOffline,
    StationTimeout,
)
from joule.storage.committer import GroupCommitter
from joule.storage.models import Station
from joule.storage.uow import UnitOfWork

Payload = dict[str, Any]
Send = Callable[[str], Awaitable[Payload]]

MAX_STATIONS = 10_000  # one job; larger roll-outs are split by site or model
KEEP_JOBS = 200

PENDING = "pending"
RUNNING = "running"
DONE = "done"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stations: explicit ids, or a filter (all given conditions must hold)."""

    station_ids: tuple[str, ...] | None = None
    site_id: str | None = None
    model: str | None = None
    vendor: str | None = None  # with model: a firmware roll-out targets one vendor's model
    online: bool | None = None
    # The caller's scope as a condition on stations: a selection never reaches beyond it (issue 5).
    visible: ColumnElement[bool] | None = None


@dataclass
class StationResult:
    """How the command went for one station."""

    station_id: str
    state: str = PENDING  # pending | running | done
    outcome: str | None = None  # answered | callerror | timeout | offline | not_found | invalid
    response: Payload | None = None
    error: str | None = None
    finished_at: datetime | None = None


@dataclass
class BulkJob:
    """A bulk action in progress or finished."""

    id: str
    command: str
    params: Payload
    operator: str
    created_at: datetime
    results: dict[str, StationResult] = field(default_factory=dict)
    finished_at: datetime | None = None
    organisation_id: str | None = None  # whose job it is: seen by that subtree only

    @property
    def state(self) -> str:
        """pending, running or done."""
        if self.finished_at is not None:
            return DONE
        return RUNNING if any(r.state != PENDING for r in self.results.values()) else PENDING

    def counts(self) -> dict[str, int]:
        """Stations by outcome (pending and running ones by state)."""
        counts: dict[str, int] = {}
        for result in self.results.values():
            key = result.outcome or result.state
            counts[key] = counts.get(key, 0) + 1
        return counts


def _outcome(error: JouleError) -> str:
    if isinstance(error, StationOffline):
        return "offline"
    if isinstance(error, StationTimeout):
        return "timeout"
    if isinstance(error, StationCallError):
        return "callerror"
    if isinstance(error, NotFound):
        return "not_found"
    return "invalid"


async def select_stations(session: AsyncSession, selection: Selection) -> list[str]:
    """The ids of the selected stations that exist, in id order."""
    query = select(Station.id).where(Station.registration == "accepted")
    if selection.visible is not None:
        query = query.where(selection.visible)
    if selection.station_ids is not None:
        query = query.where(Station.id.in_(selection.station_ids))
    if selection.site_id is not None:
        query = query.where(Station.site_id == selection.site_id)
    if selection.model is not None:
        query = query.where(Station.model == selection.model)
    if selection.vendor is not None:
        query = query.where(Station.vendor == selection.vendor)
    if selection.online is not None:
        query = query.where(Station.online.is_(selection.online))
    rows = await session.execute(query.order_by(Station.id).limit(MAX_STATIONS + 1))
    return list(rows.scalars().all())


class BulkRunner:
    """Runs bulk jobs with at most `concurrency` commands in flight per job."""

    def __init__(self, committer: GroupCommitter, clock: Clock, *, concurrency: int) -> None:
        self._committer = committer
        self._clock = clock
        self._concurrency = concurrency
        self._jobs: OrderedDict[str, BulkJob] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(
        self,
        *,
        command: str,
        params: Payload,
        operator: str,
        selection: Selection,
        send: Callable[[str], Awaitable[Payload]],
        organisation_id: str | None = None,
    ) -> BulkJob:
        """Resolve the selection, start the job in the background and return it."""
        if selection.station_ids is not None and len(selection.station_ids) > MAX_STATIONS:
            raise Invalid(f"at most {MAX_STATIONS} stations per bulk action")

        async def work(uow: UnitOfWork) -> list[str]:
            return await select_stations(uow.session, selection)

        found = await self._committer.read(work)
        if len(found) > MAX_STATIONS:
            raise Invalid(f"the filter selects more than {MAX_STATIONS} stations; narrow it")
        wanted: Sequence[str] = (
            list(dict.fromkeys(selection.station_ids))
            if selection.station_ids is not None
            else found
        )
        if not wanted:
            raise Invalid("the selection contains no station")
        job = BulkJob(
            id=uuid.uuid4().hex,
            command=command,
            params=params,
            operator=operator,
            created_at=self._clock.now(),
            results={sid: StationResult(sid) for sid in wanted},
            organisation_id=organisation_id,
        )
        known = set(found)
        for sid in wanted:
            if sid not in known:
                self._finish(job.results[sid], "not_found", None, f"station {sid} does not exist")
        self._remember(job)
        task = asyncio.create_task(self._run(job, send), name=f"bulk-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> BulkJob:
        """A job by id; NotFound once forgotten or never known."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"bulk job {job_id} does not exist")
        return job

    async def wait(self, job_id: str) -> BulkJob:
        """Wait for a job to finish (tests, CLI)."""
        job = self.get(job_id)
        while job.finished_at is None:
            await asyncio.sleep(0.02)
        return job

    async def stop(self) -> None:
        """Cancel running jobs (commands already sent keep their audit records)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _remember(self, job: BulkJob) -> None:
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            self._jobs.popitem(last=False)

    def _finish(
        self, result: StationResult, outcome: str, response: Payload | None, error: str | None
    ) -> None:
        result.state = DONE
        result.outcome = outcome
        result.response = response
        result.error = error
        result.finished_at = self._clock.now()

    async def _run(self, job: BulkJob, send: Send) -> None:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(result: StationResult) -> None:
            async with gate:
                result.state = RUNNING
                try:
                    response = await send(result.station_id)
                except JouleError as error:
                    self._finish(result, _outcome(error), None, str(error))
                except Exception as error:  # one station's failure never stops the others
                    self._finish(result, "failed", None, f"{type(error).__name__}: {error}")
                else:
                    self._finish(result, "answered", response, None)

        try:
            await asyncio.gather(*(one(r) for r in job.results.values() if r.state == PENDING))
        finally:
            job.finished_at = self._clock.now()
