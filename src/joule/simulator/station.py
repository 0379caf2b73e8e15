"""A simulated charging station: one identity with its EVSEs, meter, state machine and
connection, and a scripting API (plug in, present a token, fault, go offline, reboot, counters).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from joule.kit.clock import Clock, SystemClock, utc_iso
from joule.ocpp.versions import OcppVersion
from joule.simulator import quirks as q
from joule.simulator.arrivals import PATTERNS, SessionPattern
from joule.simulator.chargepoint import ChargePoint, RemoteStarter
from joule.simulator.commands import Commands
from joule.simulator.configuration import ConfigStore, default_settings
from joule.simulator.connection import Connection, Identity
from joule.simulator.dialect import Dialect, StationInfo
from joule.simulator.dialect2x import Dialect2x
from joule.simulator.dialect16 import Dialect16
from joule.simulator.effects import Ev, Session
from joule.simulator.handlers2x import Handlers2x
from joule.simulator.handlers16 import Handlers16
from joule.simulator.link import InboundHandler, Link, Reply
from joule.simulator.maintenance import Maintenance
from joule.simulator.model import (
    EV_MODELS,
    LAYOUTS,
    CompletedTransaction,
    Counters,
    EvseSpec,
    IdToken,
)
from joule.simulator.outbox import Outbox
from joule.simulator.profiles import StationProfile

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StationSpec:
    """Everything that makes one simulated station what it is."""

    station_id: str
    version: OcppVersion = OcppVersion.V16
    evses: tuple[EvseSpec, ...] = LAYOUTS["ac3x2"]
    profile: StationProfile = field(default_factory=lambda: StationProfile("default"))
    password: str | None = None
    pattern: SessionPattern = PATTERNS["realistic"]
    tokens: tuple[IdToken, ...] = ()
    config: dict[str, str] = field(default_factory=dict)  # setting name → value at power-up
    seed: int | None = None
    security_profile: int | None = None


class SimulatedStation:
    """One station with its own identity, EVSEs, meter and state machine."""

    def __init__(
        self,
        spec: StationSpec,
        url: str,
        *,
        clock: Clock | None = None,
        remote_starter: RemoteStarter | None = None,
        check_schemas: bool = True,
        tick_s: float = 1.0,
        traffic: bool = True,
    ) -> None:
        self.spec = spec
        self.url = url
        self.clock = clock or SystemClock()
        self.counters = Counters()
        self.firmware_version = spec.profile.firmware
        self.tick_s = tick_s
        self.traffic = traffic
        self.rng = random.Random(spec.seed if spec.seed is not None else spec.station_id)
        profile = spec.profile
        self.quirks = profile.quirks
        self._zone = ZoneInfo(profile.timezone) if profile.timezone else None
        self._clock_set = q.EPOCH_CLOCK not in self.quirks
        self._powered_at = time.monotonic()
        self.config = ConfigStore(
            default_settings(
                evse_ids=[e.evse_id for e in spec.evses],
                vendor=profile.vendor,
                model=profile.model,
                security_profile=spec.security_profile or (1 if spec.password else 0),
                password=spec.password,
                evse_power_w={e.evse_id: int(e.max_power_w) for e in spec.evses},
                evse_phases={e.evse_id: e.phases for e in spec.evses},
                connector_types={e.evse_id: e.connector_type for e in spec.evses},
            )
        )
        for name, value in {**profile.config, **spec.config}.items():
            self.config.put(name, value)
        self.dialect: Dialect = (
            Dialect16(self.stamp)
            if spec.version is OcppVersion.V16
            else Dialect2x(self.stamp, spec.version)
        )
        self.outbox = Outbox(
            station_id=spec.station_id,
            dialect=self.dialect,
            config=self.config,
            counters=self.counters,
            quirks=self.quirks,
            check_schemas=check_schemas,
        )
        self.chargepoint = ChargePoint(
            station_id=spec.station_id,
            evses=spec.evses,
            dialect=self.dialect,
            outbox=self.outbox,
            config=self.config,
            counters=self.counters,
            clock=self.clock,
            rng=self.rng,
            pattern=spec.pattern,
            tokens=spec.tokens,
            remote_starter=remote_starter,
        )
        self.commands = Commands(self.chargepoint)
        self.maintenance = Maintenance(self.chargepoint, self)
        self._tasks: list[asyncio.Task[Any]] = []
        self._handle: InboundHandler = (
            Handlers16(self) if spec.version is OcppVersion.V16 else Handlers2x(self)
        )
        self.connection = Connection(
            Identity(url, spec.station_id, self.quirks, check_schemas),
            dialect=self.dialect,
            config=self.config,
            counters=self.counters,
            outbox=self.outbox,
            handler=self._handle,
            info=self.info,
            on_linked=self._linked,
            on_clock=self._set_clock,
            rng=self.rng,
        )

    # -- identity and time -------------------------------------------------------------------

    @property
    def station_id(self) -> str:
        """The station identity (the last URL segment)."""
        return self.spec.station_id

    @property
    def version(self) -> OcppVersion:
        """The OCPP version this station speaks."""
        return self.spec.version

    def info(self) -> StationInfo:
        """What BootNotification tells about the station."""
        serial = f"SN-{self.station_id}"[-25:]
        profile = self.spec.profile
        return StationInfo(profile.vendor, profile.model, serial, self.firmware_version)

    def stamp(self, at: datetime) -> str:
        """A timestamp as this station writes it (quirks: local time Q7, 1970 before sync Q8)."""
        if not self._clock_set:
            at = _EPOCH + timedelta(seconds=time.monotonic() - self._powered_at)
        if self._zone is not None and q.LOCAL_TIME in self.quirks:
            return at.astimezone(self._zone).strftime("%Y-%m-%dT%H:%M:%S")
        return utc_iso(at)

    def _set_clock(self) -> None:
        self._clock_set = True

    def _linked(self, booted: bool) -> None:
        """Online: after a boot every status goes out, after a reconnect what changed (C16 §4.9)."""
        now = self.clock.now()
        self.chargepoint.resync_status(now, everything=booted)
        if self.traffic:
            self.chargepoint.start_traffic(now)

    @property
    def link(self) -> Link | None:
        """The open WebSocket link, if any."""
        return self.connection.link

    @property
    def booted(self) -> asyncio.Event:
        """Set once this power-up's boot is Accepted."""
        return self.connection.booted

    @property
    def boot_status(self) -> str | None:
        """The CSMS's last verdict on our BootNotification."""
        return self.connection.boot_status

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Power up: connect, boot, and run until stopped."""
        loop = asyncio.get_running_loop()
        for work in (
            self.connection.run(),
            self.outbox.run(),
            self.outbox.run_posts(),
            self.connection.heartbeats(),
            self._tick_loop(),
        ):
            self._tasks.append(loop.create_task(work))

    async def stop(self, *, end_sessions: bool = True, drain_s: float = 15.0) -> None:
        """Shut down: drivers leave (their transactions end), queued messages go out, close."""
        self.chargepoint.traffic = False
        if end_sessions:
            now = self.clock.now()
            for evse in self.chargepoint.evses.values():
                if evse.ev is not None:
                    evse.unplug(now)
            self.chargepoint.flush()
        if self.outbox.online.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.drained(), drain_s)
        self.connection.stopping = True
        await self.connection.close_link("station shutting down")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.chargepoint.shutdown()

    async def wait_booted(self, timeout: float = 30.0) -> None:
        """Wait until the boot is Accepted."""
        await asyncio.wait_for(self.connection.booted.wait(), timeout)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until every queued transaction message was delivered (or discarded)."""
        await asyncio.wait_for(self.outbox.drained(), timeout)

    @property
    def online(self) -> bool:
        """True while connected with an Accepted boot."""
        return self.outbox.online.is_set()

    @property
    def completed(self) -> list[CompletedTransaction]:
        """Transactions that ended and were delivered, with their metered energy."""
        return self.chargepoint.completed

    def sessions(self) -> list[Session]:
        """The transactions running now."""
        return [e.active for e in self.chargepoint.evses.values() if e.active is not None]

    async def send_heartbeat(self) -> None:
        """Heartbeat now (TriggerMessage)."""
        await self.connection.send_heartbeat()

    async def _tick_loop(self) -> None:
        while True:
            self.chargepoint.tick(self.clock.now())
            await asyncio.sleep(self.tick_s)

    async def reboot(
        self,
        *,
        boot_reason: str = "RemoteReset",
        stop_reason: str = "Reboot",
        graceful: bool = True,
    ) -> None:
        """Reboot: end transactions, close, come back and boot; returns once Accepted again."""
        cp = self.chargepoint
        cp.accepting = False
        try:
            self.commands.stop_all(reason=stop_reason, trigger="ResetCommand")
            if graceful and self.online:
                # C16 §5.14 Soft: stop transactions gracefully (their messages go out) first.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.outbox.drained(), 10.0)
            await self.connection.restart(boot_reason)
            await self.connection.booted.wait()
        finally:
            cp.accepting = True

    # -- scripting API -------------------------------------------------------------------------

    def plug_in(
        self, evse_id: int, *, ev: str = "sedan", soc: int = 30, target_soc: int = 90
    ) -> None:
        """An EV is plugged into an EVSE."""
        evse = self.chargepoint.evses[evse_id]
        evse.plug_in(Ev(EV_MODELS[ev], Decimal(soc), Decimal(target_soc)), self.clock.now())
        self.chargepoint.flush()

    async def present_token(self, evse_id: int, uid: str, type: str = "ISO14443") -> bool:
        """A token at the EVSE's reader: starts, or stops its own transaction."""
        return await self.chargepoint.present_token(evse_id, IdToken(uid, type))

    async def stop_transaction(self, evse_id: int) -> bool:
        """The driver stops with the token that started the transaction."""
        session = self.chargepoint.evses[evse_id].active
        return session is not None and await self.chargepoint.present_token(evse_id, session.token)

    def unplug(self, evse_id: int) -> None:
        """The cable is pulled."""
        self.chargepoint.evses[evse_id].unplug(self.clock.now())
        self.chargepoint.flush()

    def fault(
        self, evse_id: int, error_code: str = "GroundFailure", info: str | None = None
    ) -> None:
        """The EVSE fails (Faulted); a running transaction ends."""
        reason = {"GroundFailure": "GroundFault", "OverCurrentFailure": "OvercurrentFault"}
        self.counters.faults += 1
        evse = self.chargepoint.evses[evse_id]
        evse.fault(
            self.clock.now(),
            error_code=error_code,
            info=info,
            stop_reason=reason.get(error_code, "Other"),
        )
        self.chargepoint.flush()

    def clear_fault(self, evse_id: int) -> None:
        """The fault is gone."""
        self.chargepoint.evses[evse_id].clear_fault(self.clock.now())
        self.chargepoint.flush()

    def go_offline(self) -> None:
        """The network goes down: the link drops and reconnects fail until come_back()."""
        self.connection.offline = True
        self.connection.abort()

    def come_back(self) -> None:
        """The network is back: the next reconnection attempt succeeds."""
        self.connection.offline = False

    def drop_connection(self) -> None:
        """An abrupt disconnect (no close frame); the station reconnects with back-off."""
        self.connection.abort()

    async def handle_call(self, action: str, payload: dict[str, Any]) -> Reply:
        """Answer a CSMS CALL as this station would (what the link calls)."""
        return await self._handle(action, payload)
