"""A simulated charging station: its connection, boot, heartbeat, and a scripting API.

Connection (P4 §5.3): after a lost link the station waits RetryBackOffWaitMinimum + random
(RetryBackOffRandomRange) and doubles on every failure up to RetryBackOffRepeatTimes. It boots
once per power-up (J16 §5.4: a reconnect is no reboot), waiting out Pending and Rejected by the
interval the CSMS gives (B02, B03), and sends only BootNotification until Accepted (B01.FR.08).
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

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from joule.kit.clock import Clock, SystemClock, utc_iso
from joule.ocpp.versions import OcppVersion
from joule.simulator import quirks as q
from joule.simulator.arrivals import PATTERNS, SessionPattern
from joule.simulator.backoff import reconnect_delay_s
from joule.simulator.chargepoint import ChargePoint, RemoteStarter
from joule.simulator.commands import Commands
from joule.simulator.configuration import ConfigStore, default_settings
from joule.simulator.dialect import Dialect, StationInfo, read_boot
from joule.simulator.dialect2x import Dialect2x
from joule.simulator.dialect16 import Dialect16
from joule.simulator.effects import Ev, Session
from joule.simulator.handlers2x import Handlers2x
from joule.simulator.handlers16 import Handlers16
from joule.simulator.link import (
    CallErrorReceived,
    InboundHandler,
    Link,
    LinkClosed,
    Reply,
    open_socket,
)
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
_BOOT_RETRY_S = 30.0  # a BootNotification without an answer, or an interval of 0
_REBOOT_S = 2.0  # how long a reboot keeps the station away


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
        self._check_schemas = check_schemas
        self.link: Link | None = None
        self.boot_status: str | None = None
        self.booted = asyncio.Event()  # the current power-up's boot was Accepted
        self._needs_boot = True
        self._boot_reason = "PowerUp"
        self._rebooting = False
        self._offline = False  # the network is down (go_offline)
        self._network = asyncio.Event()
        self._network.set()
        self._stopping = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._handle: InboundHandler = (
            Handlers16(self) if spec.version is OcppVersion.V16 else Handlers2x(self)
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

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Power up: connect, boot, and run until stopped."""
        loop = asyncio.get_running_loop()
        for work in (
            self._connection_loop(),
            self.outbox.run(),
            self.outbox.run_posts(),
            self._heartbeat_loop(),
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
        self._stopping = True
        link = self.link
        if link is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.close(1000, "station shutting down"), 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def wait_booted(self, timeout: float = 30.0) -> None:
        """Wait until the boot is Accepted."""
        await asyncio.wait_for(self.booted.wait(), timeout)

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

    def _backoff(self, attempt: int) -> float:
        return reconnect_delay_s(
            attempt,
            wait_minimum_s=float(self.config.get_int("RetryBackOffWaitMinimum")),
            random_range_s=float(self.config.get_int("RetryBackOffRandomRange")),
            repeat_times=self.config.get_int("RetryBackOffRepeatTimes"),
            rng=self.rng,
        )

    async def _connection_loop(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                if self._offline:
                    raise OSError("the network is down")
                ws = await self._open()
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.counters.connect_failures += 1
                log.debug("%s: connect failed: %s", self.station_id, exc)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            await self._session(ws)
            if self._stopping:
                return
            if self._rebooting:
                await asyncio.sleep(_REBOOT_S)  # a reboot reconnects at once, no back-off
                self._rebooting = False
                attempt = 0
                continue
            await asyncio.sleep(self._backoff(0))  # P4 §5.3: the first attempt after a loss
            attempt = 1

    async def _open(self) -> ClientConnection:
        answer_pings = q.NO_PING_REPLIES not in self.quirks
        ws = await open_socket(
            self.url,
            self.station_id,
            version=self.version,
            password=self._password(),
            offer_subprotocol=q.NO_SUBPROTOCOL not in self.quirks,
            answer_pings=answer_pings,
            ping_interval_s=float(self.config.get_int("WebSocketPingInterval")) or None,
        )
        chosen = ws.subprotocol
        if chosen is not None and chosen != self.version.subprotocol:
            await ws.close(1002, "subprotocol not offered")
            raise OSError(f"the CSMS chose {chosen}")
        return ws

    def _password(self) -> str | None:
        value = self.config.get("AuthorizationKey")
        return value or None

    async def _session(self, ws: ClientConnection) -> None:
        link = Link(
            ws,
            self.version,
            on_call=self._handle,
            counters=self.counters,
            check_schemas=self._check_schemas,
        )
        self.link = link
        reader = asyncio.get_running_loop().create_task(link.run())
        if self.counters.connects:
            self.counters.reconnects += 1
        self.counters.connects += 1
        try:
            if self._needs_boot:
                if not await self._boot(link):
                    return
                self.chargepoint.resync_status(self.clock.now(), everything=True)
            else:
                self.chargepoint.resync_status(self.clock.now(), everything=False)
            self.outbox.attach(link)
            if self.traffic:
                self.chargepoint.start_traffic(self.clock.now())
            await link.wait_closed()
        finally:
            self.outbox.detach()
            self.link = None
            if not link.closed:
                link.abort()
            with contextlib.suppress(Exception):
                await reader

    async def _boot(self, link: Link) -> bool:
        """BootNotification until Accepted; Pending/Rejected wait out their interval."""
        while not link.closed:
            self.counters.boots += 1
            try:
                result = await self.outbox.call_on(
                    link, self.dialect.boot(self.info(), self._boot_reason)
                )
            except LinkClosed:
                return False
            except (CallErrorReceived, TimeoutError):
                await _wait_or_closed(link, _BOOT_RETRY_S)
                continue
            answer = read_boot(result)
            self.boot_status = answer.status
            if answer.status == "Accepted":
                if answer.interval_s > 0:
                    self.config.put("HeartbeatInterval", answer.interval_s)
                self._clock_set = True  # the CSMS's currentTime sets the clock (Q8)
                self._needs_boot = False
                self._boot_reason = "PowerUp"
                self.counters.booted = 1
                self.booted.set()
                return True
            # B02.FR.01 / B03.FR.01: try again after the interval the CSMS gave.
            await _wait_or_closed(link, float(answer.interval_s) or _BOOT_RETRY_S)
        return False

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.outbox.online.wait()
            interval = self.config.get_int("HeartbeatInterval")
            if interval <= 0:
                await asyncio.sleep(5.0)
                continue
            idle = time.monotonic() - self.outbox.last_activity
            if idle < interval:
                await asyncio.sleep(min(interval - idle, 5.0))
                continue
            await self.send_heartbeat()

    async def send_heartbeat(self) -> None:
        """Heartbeat now; its currentTime sets the clock."""
        if await self.outbox.send(self.dialect.heartbeat()) is not None:
            self._clock_set = True

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
        trigger = "ResetCommand"
        self.commands.stop_all(reason=stop_reason, trigger=trigger)
        if graceful and self.online:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.drained(), 10.0)
        self._needs_boot = True
        self._boot_reason = boot_reason
        self._rebooting = True
        self.booted.clear()
        link = self.link
        if link is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.close(1000, "rebooting"), 5)
        await self.booted.wait()
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
        self._offline = True
        if self.link is not None:
            self.link.abort()

    def come_back(self) -> None:
        """The network is back: the next reconnection attempt succeeds."""
        self._offline = False

    def drop_connection(self) -> None:
        """An abrupt disconnect (no close frame); the station reconnects with back-off."""
        if self.link is not None:
            self.link.abort()

    async def handle_call(self, action: str, payload: dict[str, Any]) -> Reply:
        """Answer a CSMS CALL as this station would (what the link calls)."""
        return await self._handle(action, payload)


async def _wait_or_closed(link: Link, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(link.wait_closed(), seconds)
