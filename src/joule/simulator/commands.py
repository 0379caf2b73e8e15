"""What the CSMS can ask of a station, version-neutral: starts, stops, availability,
reservations and smart charging. The version handlers translate their messages to these verbs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal

from joule.simulator.arrivals import draw_visit
from joule.simulator.auth import ACCEPTED
from joule.simulator.chargepoint import ChargePoint
from joule.simulator.charging import ProfileRejected
from joule.simulator.effects import Reservation, Session
from joule.simulator.evse import Evse
from joule.simulator.model import IdToken
from joule.simulator.schedule import (
    ChargingProfile,
    CompositeSchedule,
    TxContext,
    composite_schedule,
)

log = logging.getLogger(__name__)

_PLUG_DELAY_S = (1.0, 3.0)  # a driver who started from the app walks to the car and plugs in


class Commands:
    """The station's answers to the CSMS, in OCPP's terms but no version's words."""

    def __init__(self, cp: ChargePoint) -> None:
        self.cp = cp

    def free_evse(self, token: IdToken) -> Evse | None:
        """The EVSE a remote start without an EVSE picks: a plugged-in waiting EV first."""
        candidates = [e for e in self.cp.evses.values() if self.can_start(e, token)]
        waiting = [e for e in candidates if e.ev is not None]
        ranked = waiting or candidates
        return ranked[0] if ranked else None

    def can_start(self, evse: Evse, token: IdToken) -> bool:
        """True when a transaction could start here for this token."""
        return (
            evse.active is None
            and evse.error_code is None
            and evse.operative
            and (evse.ev is None or evse.session is None)
            and evse.reserved_for(token)
            and self.cp.accepting
        )

    def remote_start(
        self,
        evse: Evse,
        token: IdToken,
        *,
        remote_start_id: int | None,
        profile: ChargingProfile | None,
    ) -> None:
        """Carry out an accepted remote start: the driver plugs in if needed, then it starts."""

        async def go() -> None:
            # C16 AuthorizeRemoteTxRequests / 2.x AuthorizeRemoteStart: check the token first.
            check = self.cp.config.get_bool("AuthorizeRemoteTxRequests")
            if check and await self.cp.authorize(token) != ACCEPTED:
                self.cp.counters.sessions_refused += 1
                return
            if evse.ev is None:
                await asyncio.sleep(self.cp.rng.uniform(*_PLUG_DELAY_S))
                visit = draw_visit(self.cp.rng, self.cp.pattern, [token], app_available=False)
                if evse.ev is not None or not self.can_start(evse, token):
                    return
                self.cp.plug(evse, visit, self.cp.now())
                self.cp.drivers[evse.evse_id].adopt(visit, self.cp.now())
            if not self.cp.begin(
                evse, token, trigger="RemoteStart", remote_start_id=remote_start_id
            ):
                return
            session = evse.active
            if profile is not None and session is not None:
                self.install_profile(profile, transaction_id=session.transaction_id)

        self.cp.busy_with(evse.evse_id, go())

    def find_session(
        self, *, transaction_id: str | None = None, csms_id: int | None = None
    ) -> Session | None:
        """A running transaction by the station's id (2.x) or the CSMS's (1.6)."""
        for evse in self.cp.evses.values():
            s = evse.active
            if s is None:
                continue
            if s.transaction_id == transaction_id or (csms_id is not None and s.csms_id == csms_id):
                return s
        return None

    def stop_session(self, session: Session, *, reason: str, trigger: str) -> None:
        """End a running transaction (remote stop, reset, unlock)."""
        self.cp.evses[session.evse_id].end(self.cp.now(), reason=reason, trigger=trigger)
        self.cp.flush()

    def stop_all(self, *, reason: str, trigger: str) -> None:
        """End every running transaction (a hard reset, a reboot)."""
        for evse in self.cp.evses.values():
            if evse.active is not None:
                evse.end(self.cp.now(), reason=reason, trigger=trigger)
        self.cp.flush()

    # -- smart charging ----------------------------------------------------------------------

    def install_profile(
        self, profile: ChargingProfile, *, transaction_id: str | None = None
    ) -> bool:
        """SetChargingProfile: True when installed; the power follows at once."""
        if transaction_id is not None:
            profile = replace(profile, transaction_id=transaction_id)
        try:
            self.cp.profiles.install(
                profile, evse_count=len(self.cp.evses), active_transaction=self.transaction_on
            )
        except ProfileRejected as exc:
            log.info("%s: charging profile %d rejected: %s", self.cp.station_id, profile.id, exc)
            return False
        self.cp.tick(self.cp.now())
        return True

    def transaction_on(self, evse_id: int) -> str | None:
        """The station's id of the transaction running on an EVSE."""
        session = self.cp.evses[evse_id].active if evse_id in self.cp.evses else None
        return session.transaction_id if session is not None else None

    def composite(self, evse_id: int, *, duration_s: int, unit: str) -> CompositeSchedule:
        """GetCompositeSchedule of an EVSE, or of the whole station (0)."""
        now = self.cp.now()
        if evse_id == 0:
            phases = max(e.spec.phases for e in self.cp.evses.values())
            max_w = sum((e.spec.max_power_w for e in self.cp.evses.values()), Decimal(0))
            tx = None
        else:
            evse = self.cp.evses[evse_id]
            phases, max_w = evse.spec.phases, evse.spec.max_power_w
            s = evse.active
            tx = TxContext(s.transaction_id, s.started_at) if s else None
        return composite_schedule(
            self.cp.profiles.profiles,
            start=now,
            duration_s=duration_s,
            unit=unit,
            evse_id=evse_id,
            phases=phases,
            max_power_w=max_w,
            tx=tx,
        )

    # -- availability, reservations, faults --------------------------------------------------

    def change_availability(self, evse_id: int, *, operative: bool) -> str:
        """ChangeAvailability of one EVSE or (0) all: Accepted, or Scheduled behind a session."""
        now = self.cp.now()
        targets = list(self.cp.evses.values()) if evse_id == 0 else [self.cp.evses[evse_id]]
        results = [evse.set_operative(operative, now) for evse in targets]
        state = "Available" if operative else "Unavailable"
        for evse in targets:
            self.cp.config.put(f"EVSE{evse.evse_id}.AvailabilityState", state)
        if evse_id == 0:
            self.cp.config.put("ChargingStation.AvailabilityState", state)
        self.cp.flush()
        return "Scheduled" if "Scheduled" in results else "Accepted"

    def reserve(self, evse_id: int | None, reservation: Reservation) -> str:
        """ReserveNow on an EVSE (None: any free one)."""
        now = self.cp.now()
        for evse in self.cp.evses.values():
            held = evse.reservation
            if held is not None and held.id == reservation.id:
                return evse.reserve(reservation, now)  # the same id replaces the reservation
        if evse_id is None:
            free = [e for e in self.cp.evses.values() if e.status.value == "Available"]
            if not free:
                return "Occupied"
            evse_id = free[0].evse_id
        status = self.cp.evses[evse_id].reserve(reservation, now)
        self.cp.flush()
        return status

    def cancel_reservation(self, reservation_id: int) -> bool:
        """CancelReservation: True when such a reservation was held."""
        now = self.cp.now()
        for evse in self.cp.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                evse.cancel_reservation(now)
                self.cp.flush()
                return True
        return False
