"""The station's hardware and its drivers, version-neutral: EVSEs, profiles, local auth, traffic.

It owns what happens at the station and turns it into messages through the dialect and the
outbox; handlers and the scripting API call its verbs. Nothing here touches a socket.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from joule.kit.clock import Clock
from joule.simulator import driver as drv
from joule.simulator.arrivals import SessionPattern, Visit
from joule.simulator.auth import ACCEPTED, LocalAuth
from joule.simulator.charging import ProfileStore
from joule.simulator.configuration import ConfigStore, Setting
from joule.simulator.curves import Limit
from joule.simulator.dialect import Dialect, TxAnswer, TxMessage
from joule.simulator.driver import Driver
from joule.simulator.effects import (
    Effect,
    Ev,
    ReservationEnded,
    Session,
    StatusChanged,
    TxEnded,
    TxSampled,
    TxStarted,
    TxStateChanged,
)
from joule.simulator.evse import Evse, EvseBusy
from joule.simulator.meter import Meter
from joule.simulator.model import CompletedTransaction, Counters, EvseSpec, IdToken
from joule.simulator.outbox import Outbox
from joule.simulator.schedule import TxContext, composite_limit

log = logging.getLogger(__name__)

RemoteStarter = Callable[[str, int, IdToken], Awaitable[None]]


class ChargePoint:
    """Everything at the station except its connection."""

    def __init__(
        self,
        *,
        station_id: str,
        evses: Sequence[EvseSpec],
        dialect: Dialect,
        outbox: Outbox,
        config: ConfigStore,
        counters: Counters,
        clock: Clock,
        rng: random.Random,
        pattern: SessionPattern,
        tokens: Sequence[IdToken],
        remote_starter: RemoteStarter | None = None,
    ) -> None:
        self.station_id = station_id
        self.dialect = dialect
        self.outbox = outbox
        self.config = config
        self.counters = counters
        self.clock = clock
        self.rng = rng
        self.pattern = pattern
        self.remote_starter = remote_starter
        self.evses = {
            s.evse_id: Evse(s, Meter(Decimal(rng.randint(1_000_000, 50_000_000)), dc=s.is_dc))
            for s in evses
        }
        own = [IdToken(f"{station_id[-12:]}-{s.evse_id}") for s in evses]
        self.drivers = {
            s.evse_id: Driver(rng, pattern, tokens or own, app_available=remote_starter is not None)
            for s in evses
        }
        self.profiles = ProfileStore()
        self.auth = LocalAuth()
        self.accepting = True  # new sessions welcome (not while a reset or update waits)
        self.traffic = False  # drivers come and go on their own
        self.completed: list[CompletedTransaction] = []
        self.delivered: dict[int, str] = {}  # evse → status as the CSMS last acknowledged it
        self._busy: dict[int, int] = {}  # EVSE → driver actions in flight
        self._tasks: set[asyncio.Task[Any]] = set()
        outbox.on_tx_answer = self._on_tx_answer
        config.listeners.append(self._setting_changed)
        self.apply_settings()

    def now(self) -> datetime:
        """The real time (the station's own clock may differ: see Station.stamp)."""
        return self.clock.now()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background, kept until done."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        """Cancel background work (driver actions, updates, uploads): the power is off."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def apply_settings(self) -> None:
        """Take sampling and authorization settings from the configuration."""
        measurands = self.config.get_list("MeterValuesSampledData")
        ended = self.config.get_list("StopTxnSampledData")
        interval = self.config.get_int("MeterValueSampleInterval")
        for evse in self.evses.values():
            evse.measurands, evse.ended_measurands = measurands, ended
            evse.sample_interval_s = interval
        self.auth.list_enabled = self.config.get_bool("LocalAuthListEnabled")
        self.auth.cache_enabled = self.config.get_bool("AuthorizationCacheEnabled")
        self.auth.max_entries = self.config.get_int("LocalAuthListMaxLength")
        self.auth.max_per_message = self.config.get_int("SendLocalListMaxLength")
        timeout = float(self.config.get_int("ConnectionTimeOut"))
        for d in self.drivers.values():
            d.start_timeout_s = timeout

    def _setting_changed(self, setting: Setting) -> None:
        self.apply_settings()

    # -- time --------------------------------------------------------------------------------

    def start_traffic(self, now: datetime) -> None:
        """Let drivers arrive by the session pattern."""
        if not self.traffic:
            self.traffic = True
            for d in self.drivers.values():
                if d.next_arrival_at is None and d.visit is None:
                    d.schedule(now, first=True)

    def tick(self, now: datetime) -> None:
        """Advance meters and limits to `now`, let drivers act, send what happened."""
        for evse in self.evses.values():
            evse.limit = self._limit(evse, now)
            evse.advance(now)
        if self.traffic:
            for evse_id, d in self.drivers.items():
                if not self._busy.get(evse_id):
                    action = d.next_action(self.evses[evse_id], now, accepting=self.accepting)
                    if action is not None:
                        self._act(evse_id, d, action, now)
        self.flush()

    def _limit(self, evse: Evse, now: datetime) -> Limit | None:
        session = evse.active
        tx = TxContext(session.transaction_id, session.started_at) if session else None
        return composite_limit(
            self.profiles.profiles, now, evse_id=evse.evse_id, phases=evse.spec.phases, tx=tx
        )

    def _act(self, evse_id: int, d: Driver, action: str, now: datetime) -> None:
        evse = self.evses[evse_id]
        visit = d.visit
        if action == drv.ARRIVE:
            visit = d.arrive(now)
            self.plug(evse, visit, now)
        elif action == drv.UNPLUG:
            evse.unplug(now)
        elif visit is not None and action in (drv.PRESENT, drv.STOP_BY_TOKEN):
            self.busy_with(evse_id, self.present_token(evse_id, visit.token))
        elif visit is not None and action == drv.APP_START:
            self.busy_with(evse_id, self._app_start(evse_id, visit.token))

    def plug(self, evse: Evse, visit: Visit, now: datetime) -> None:
        """The visit's EV is plugged in."""
        evse.plug_in(Ev(visit.ev, visit.soc_start, visit.soc_target), now)

    def busy_with(self, evse_id: int, work: Coroutine[Any, Any, Any]) -> None:
        """Run a driver's action at an EVSE; its agenda waits until it is done."""
        self._busy[evse_id] = self._busy.get(evse_id, 0) + 1

        async def run() -> None:
            try:
                await work
            finally:
                self._busy[evse_id] -= 1

        self.spawn(run())

    async def _app_start(self, evse_id: int, token: IdToken) -> None:
        if self.remote_starter is None:
            return
        try:
            await self.remote_starter(self.station_id, evse_id, token)
        except Exception as exc:  # the app failed: the driver waits, then gives up
            log.info("%s: app start on EVSE %d failed: %s", self.station_id, evse_id, exc)

    # -- effects → messages ------------------------------------------------------------------

    def flush(self) -> None:
        """Turn every EVSE's pending effects into messages."""
        for evse in self.evses.values():
            for effect in evse.take_effects():
                self._dispatch(effect)

    def _dispatch(self, effect: Effect) -> None:
        offline = not self.outbox.online.is_set()
        d = self.dialect
        if isinstance(effect, StatusChanged):
            self._post_status(effect)
        elif isinstance(effect, TxStarted):
            self.counters.sessions_started += 1
            self.outbox.push(d.tx_started(effect, offline=offline))
        elif isinstance(effect, TxSampled):
            self.outbox.push(d.tx_sampled(effect, offline=offline))
        elif isinstance(effect, TxStateChanged):
            message = d.tx_state(effect, offline=offline)
            if message is not None:
                self.outbox.push(message)
        elif isinstance(effect, TxEnded):
            self.profiles.end_transaction(effect.session.transaction_id)
            self.outbox.push(d.tx_ended(effect, offline=offline))
        elif isinstance(effect, ReservationEnded):
            out = d.reservation_ended(effect)
            if out is not None:
                self.outbox.post(out)

    def _post_status(self, change: StatusChanged) -> None:
        visible = self.dialect.visible(change.status)
        for out in self.dialect.status(change):
            if out.action != "StatusNotification":
                self.outbox.post(out)
                continue

            def delivered(
                result: object, evse_id: int = change.evse_id, seen: str = visible
            ) -> None:
                if result is not None:
                    self.delivered[evse_id] = seen

            self.outbox.post(out, delivered)

    def resync_status(self, at: datetime, *, everything: bool) -> None:
        """After a boot (everything) or a reconnect (what changed meanwhile), send statuses."""
        if everything:
            self.delivered.clear()
            out = self.dialect.station_status(at)
            if out is not None:
                self.outbox.post(out)
        for evse in self.evses.values():
            status = evse.status
            if everything or self.delivered.get(evse.evse_id) != self.dialect.visible(status):
                error = evse.error_code or "NoError"
                info = evse.fault_info if evse.error_code else None
                self._post_status(StatusChanged(evse.evse_id, status, error, info, at))

    def _on_tx_answer(self, message: TxMessage, answer: TxAnswer) -> None:
        session = message.session
        if answer.csms_id is not None:
            session.csms_id = answer.csms_id
        if answer.token_status is not None:
            self.auth.remember(session.token.uid, answer.token_status)
        refused = answer.token_status not in (None, ACCEPTED)
        evse = self.evses[session.evse_id]
        if refused and message.event != "Ended" and evse.active is session:
            # C16 StopTransactionOnInvalidId / E05.FR.09: the CSMS refused the token.
            self.counters.sessions_refused += 1
            if self.config.get_bool("StopTransactionOnInvalidId"):
                evse.end(self.now(), reason="DeAuthorized", trigger="Deauthorized")
                self.flush()
        if message.event == "Ended":
            self._completed(session)

    def _completed(self, session: Session) -> None:
        if session.meter_stop_wh is None:
            return
        tx_id = session.transaction_id
        if self.dialect.version.family == "1.6":
            tx_id = str(session.csms_id if session.csms_id is not None else -1)
        done = CompletedTransaction(
            station_id=self.station_id,
            evse_id=session.evse_id,
            transaction_id=tx_id,
            id_token=session.token.uid,
            meter_start_wh=session.meter_start_wh,
            meter_stop_wh=session.meter_stop_wh,
            stop_reason=session.stop_reason or "Other",
        )
        self.completed.append(done)
        self.counters.sessions_completed += 1
        self.counters.energy_wh += done.energy_wh

    # -- authorization and starts ------------------------------------------------------------

    async def authorize(self, token: IdToken) -> str | None:
        """Ask the CSMS (or, offline, the local list and cache) whether a token may charge."""
        known = self.auth.lookup(token.uid, self.now())
        if known == ACCEPTED and self.config.get_bool("LocalPreAuthorize"):
            return known  # C16 §3.5: start at once, the CSMS re-checks in StartTransaction
        if self.outbox.online.is_set():
            result = await self.outbox.send(self.dialect.authorize(token))
            if result is not None:
                status = self.dialect.read_authorize(result)
                self.auth.remember(token.uid, status)
                return status
        return known if self.config.get_bool("LocalAuthorizeOffline") else None

    async def present_token(self, evse_id: int, token: IdToken) -> bool:
        """A token at the reader: stops its own running transaction, or starts one."""
        evse = self.evses[evse_id]
        session = evse.active
        now = self.now()
        if session is not None:
            if session.token.uid.lower() != token.uid.lower():
                return False  # only the same token stops it (no group ids here)
            evse.end(now, reason="Local", trigger="StopAuthorized", token=token)
            self.flush()
            return True
        if evse.ev is None or not evse.reserved_for(token):
            return False
        status = await self.authorize(token)
        if status != ACCEPTED:
            self.counters.sessions_refused += 1
            return False
        return self.begin(evse, token, trigger="Authorized", remote_start_id=None)

    def begin(
        self, evse: Evse, token: IdToken, *, trigger: str, remote_start_id: int | None
    ) -> bool:
        now = self.now()
        evse.advance(now)
        try:
            evse.begin(
                now,
                token=token,
                transaction_id=str(uuid.uuid4()),
                trigger=trigger,
                remote_start_id=remote_start_id,
            )
        except EvseBusy:
            return False
        self.flush()
        return True
