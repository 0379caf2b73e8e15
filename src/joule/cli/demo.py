"""`joule serve --demo N`: Joule with a living demo fleet — sites, stations, drivers, sessions.

The fleet runs in the same process and event loop as Joule and talks to it over its real OCPP
port, like any charger would. Sites, stations and id tokens are registered through the registry
service; drivers who "use the app" start through the same command service the API uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Coroutine
from typing import Any

from joule.config import Settings
from joule.domain.command.service import CommandService
from joule.domain.registry import sites, stations, tokens
from joule.kit.errors import JouleError, NotFound
from joule.runtime import Joule
from joule.simulator import PATTERNS, Fleet, FleetPlan, IdToken
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DEMO_ADMIN_EMAIL = "admin@joule.local"
DEMO_ADMIN_PASSWORD = "joule-demo-admin"
PREFIX = "DEMO"
SITES = (
    ("demo-harbour", "Harbour Car Park", "Europe/Amsterdam"),
    ("demo-depot", "City Bus Depot", "Europe/Berlin"),
    ("demo-mall", "Riverside Mall", "Europe/Paris"),
    ("demo-motorway", "Motorway Services A7", "Europe/Copenhagen"),
)
# Where the demo sites are (latitude, longitude): the dashboard draws them on its map.
COORDINATES = {
    "demo-harbour": (52.3791, 4.8997),
    "demo-depot": (52.5219, 13.4132),
    "demo-mall": (48.8530, 2.3499),
    "demo-motorway": (55.6759, 12.5655),
}
BLOCKED = "DEMO-BLOCKED"  # a lost card: its driver is refused now and then
_FAULT_CODES = (
    "GroundFailure",
    "OverCurrentFailure",
    "PowerMeterFailure",
    "HighTemperature",
    "ConnectorLockFailure",
)


def demo_settings(settings: Settings) -> Settings:
    """The demo's defaults: a known first admin unless JOULE_ADMIN_* say otherwise."""
    return settings.model_copy(
        update={
            "admin_email": settings.admin_email or DEMO_ADMIN_EMAIL,
            "admin_password": settings.admin_password or DEMO_ADMIN_PASSWORD,
        }
    )


def driver_tokens(stations: int) -> list[str]:
    """Three drivers per station."""
    return [f"DEMO-DRV-{n:03d}" for n in range(1, 3 * stations + 1)]


async def _exists(lookup: Awaitable[object]) -> bool:
    try:
        await lookup
    except NotFound:
        return False
    return True


async def _register(joule: Joule, plan: FleetPlan, drivers: list[str]) -> None:
    """Sites, stations (on the sites, round robin) and tokens; what exists already is kept."""
    assert joule.committer is not None
    at = joule.clock.now()
    drafts = [
        await stations.draft_station(station_id=spec.station_id, site_id=SITES[i % len(SITES)][0])
        for i, spec in enumerate(plan.specs())
    ]

    async def work(uow: UnitOfWork) -> None:
        session = uow.session
        for site_id, name, zone in SITES:
            if not await _exists(sites.get_site(session, site_id)):
                await sites.create_site(session, site_id=site_id, name=name, timezone=zone, at=at)
            site = await sites.get_site(session, site_id)
            if site.latitude is None:
                site.latitude, site.longitude = COORDINATES[site_id]
        for draft in drafts:
            if not await _exists(stations.get_station(session, draft.station_id)):
                await stations.register_station(session, draft, at=at)
        for uid in [*drivers, BLOCKED]:
            if not await _exists(tokens.get_token(session, uid)):
                status = "Blocked" if uid == BLOCKED else "Accepted"
                await tokens.create_token(session, uid=uid, status=status, max_concurrent=2, at=at)

    await joule.committer.run(work)


class DemoFleet:
    """The simulated stations of the demo, and the faults that now and then hit them."""

    def __init__(self, joule: Joule, count: int, *, seed: int | None = None) -> None:
        self.joule = joule
        self.count = count
        self.rng = random.Random(seed)
        drivers = driver_tokens(count)
        self.plan = FleetPlan(
            stations=count,
            ocpp="mix",
            prefix=PREFIX,
            pattern=PATTERNS["demo"],
            tokens=tuple(IdToken(uid) for uid in [*drivers, BLOCKED]),
            config={"MeterValueSampleInterval": "15", "RetryBackOffWaitMinimum": "2"},
            seed=self.rng.randrange(1_000_000),
        )
        self._drivers = drivers
        self.fleet: Fleet | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Register everything, power the stations up, start the fault generator."""
        joule = self.joule
        assert joule.committer is not None and joule.gateway is not None
        await _register(joule, self.plan, self._drivers)
        commands = CommandService(
            committer=joule.committer,
            sender=joule.gateway,
            clock=joule.clock,
            timeout_s=joule.settings.call_timeout_s,
        )

        async def app_start(station_id: str, evse_id: int, token: IdToken) -> None:
            # A driver taps "start" in an app: the CSMS sends the remote start (F01 / 1.6 §5.11).
            with contextlib.suppress(JouleError):
                await commands.start(
                    station_id, operator="demo-app", uid=token.uid, evse_id=evse_id
                )

        host = joule.settings.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        url = f"ws://{host}:{joule.ocpp_port}/ocpp"
        self.fleet = Fleet.from_plan(url, self.plan, remote_starter=app_start)
        await self.fleet.start(ramp_s=min(self.count * 0.2, 10.0))
        self._spawn(self._faults())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _faults(self) -> None:
        """Every minute or so an EVSE fails for a while, then recovers."""
        assert self.fleet is not None
        members = list(self.fleet)
        while True:
            await asyncio.sleep(self.rng.uniform(40.0, 90.0))
            station = self.rng.choice(members)
            evse_id = self.rng.choice(list(station.chargepoint.evses))
            if not station.online or station.chargepoint.evses[evse_id].error_code:
                continue
            station.fault(evse_id, self.rng.choice(_FAULT_CODES))
            self._spawn(self._recover(station.station_id, evse_id))

    async def _recover(self, station_id: str, evse_id: int) -> None:
        await asyncio.sleep(self.rng.uniform(20.0, 60.0))
        if self.fleet is not None:
            self.fleet[station_id].clear_fault(evse_id)

    def banner(self) -> str:
        """What the console says about the demo."""
        s = self.joule.settings
        return (
            f"Demo fleet: {self.count} simulated stations ({PREFIX}-00001…) on {len(SITES)} sites, "
            f"{len(self._drivers)} drivers — sessions start within seconds.\n"
            f"Dashboard http://{s.host}:{self.joule.http_port}/ui/ (API docs at /docs): log in as "
            f"{s.admin_email} / {s.admin_password} (created on first start; an existing operator "
            "keeps its own)."
        )

    async def stop(self) -> None:
        """Stop faults; every driver leaves, queued messages go out, stations disconnect."""
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.fleet is not None:
            await self.fleet.stop(drain_s=5.0)
