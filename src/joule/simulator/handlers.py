"""Answering the CSMS: the shared part of the 1.6 and 2.x handlers, and the choice between them.

A CALL the station recognises but does not implement is answered NotSupported (P4 §4.3, J16
Table 7: "recognized but not supported"); unknown actions never reach here (link.py answers
NotImplemented). Follow-up messages (a triggered status, a reboot) run after the answer is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from joule.ocpp.errors import ErrorKind, OcppError
from joule.simulator.effects import StatusChanged, TxSampled
from joule.simulator.link import Reply

if TYPE_CHECKING:
    from joule.simulator.station import SimulatedStation

Payload = dict[str, Any]
Method = Callable[[Payload], Awaitable[Reply]]

VENDOR_ID = "org.joule.simulator"  # DataTransfer vendorId this station understands


class BaseHandlers:
    """What every version's handlers share."""

    def __init__(self, station: SimulatedStation) -> None:
        self.st = station
        self.cp = station.chargepoint
        self.cmd = station.commands
        self.table: dict[str, Method] = {}

    async def __call__(self, action: str, payload: Payload) -> Reply:
        method = self.table.get(action)
        if method is None:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is not supported by this station")
        return await method(payload)

    def later(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> Callable[[], Awaitable[None]]:
        """Run `work` in the station's background once the answer is on the wire."""

        async def after() -> None:
            self.cp.spawn(work())

        return after

    def evse_ids(self, evse_id: int | None) -> list[int]:
        """One EVSE, or every EVSE when none (or 0) is named."""
        if evse_id:
            return [evse_id] if evse_id in self.cp.evses else []
        return list(self.cp.evses)

    async def data_transfer(self, payload: Payload) -> Reply:
        """DataTransfer: our vendor's Echo message is answered with its data."""
        if payload.get("vendorId") != VENDOR_ID:
            return Reply({"status": "UnknownVendorId"})
        if payload.get("messageId") not in (None, "Echo"):
            return Reply({"status": "UnknownMessageId"})
        answer: Payload = {"status": "Accepted"}
        if "data" in payload:
            answer["data"] = payload["data"]
        return Reply(answer)

    async def send_statuses(self, evse_id: int | None, *, station: bool = False) -> None:
        """StatusNotification of one EVSE or of all (and, 1.6, of connector 0) now."""
        now = self.cp.now()
        if station:
            out = self.cp.dialect.station_status(now)
            if out is not None:
                self.cp.outbox.post(out)
        for eid in self.evse_ids(evse_id):
            evse = self.cp.evses[eid]
            info = evse.fault_info if evse.error_code else None
            change = StatusChanged(eid, evse.status, evse.error_code or "NoError", info, now)
            for out in self.cp.dialect.status(change):
                if out.action == "StatusNotification":
                    self.cp.outbox.post(out)

    async def send_meter_values(self, evse_id: int | None) -> None:
        """MeterValues of one EVSE or of all, sampled now (context Trigger)."""
        now = self.cp.now()
        for eid in self.evse_ids(evse_id):
            evse = self.cp.evses[eid]
            evse.advance(now)
            reading = evse.meter.reading(now, "Trigger", evse.measurands)
            self.cp.outbox.post(self.cp.dialect.meter_values(eid, reading, evse.active))

    async def send_transaction_events(self, evse_id: int | None) -> None:
        """2.x TransactionEvent Updated (trigger Trigger) for running transactions."""
        now = self.cp.now()
        for eid in self.evse_ids(evse_id):
            evse = self.cp.evses[eid]
            session = evse.active
            if session is not None:
                evse.advance(now)
                reading = evse.meter.reading(now, "Trigger", evse.measurands)
                effect = TxSampled(session, reading, trigger="Trigger")
                offline = not self.cp.outbox.online.is_set()
                self.cp.outbox.push(self.cp.dialect.tx_sampled(effect, offline=offline))

    async def send_boot(self) -> None:
        """A triggered BootNotification (1.6 allows it at any time)."""
        result = await self.cp.outbox.send(self.cp.dialect.boot(self.st.info(), "Triggered"))
        interval = result.get("interval") if result else None
        if isinstance(interval, int) and interval > 0:
            self.cp.config.put("HeartbeatInterval", interval)

    async def wait_idle_then(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Hold new sessions, wait until no transaction runs, then do `work` (OnIdle)."""
        self.cp.accepting = False
        try:
            while any(e.active is not None for e in self.cp.evses.values()):
                await asyncio.sleep(1.0)
            await work()
        finally:
            self.cp.accepting = True
