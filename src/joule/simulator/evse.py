"""One EVSE's state machine (pure, no I/O): cable, EV, transaction, meter, availability, faults.

Every change returns effects — status changes and transaction events — in the order they
happened; the station turns them into OCPP messages of its version. Statuses use the 1.6 names,
which are finer than 2.x's (Preparing/Charging/SuspendedEV/… are all 2.x Occupied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from joule.simulator.curves import Draw, Limit, draw, soc_after
from joule.simulator.effects import (
    Effect,
    Ev,
    Reservation,
    ReservationEnded,
    Session,
    Status,
    StatusChanged,
    TxEnded,
    TxSampled,
    TxStarted,
    TxStateChanged,
)
from joule.simulator.meter import DEFAULT_MEASURANDS, REGISTER, Meter
from joule.simulator.model import NOMINAL_VOLTAGE_V, EvseSpec, IdToken

_SESSION_STATUS = {"Charging": Status.CHARGING, "SuspendedEV": Status.SUSPENDED_EV}


class EvseBusy(Exception):
    """The EVSE cannot do that now (occupied, faulted, unavailable)."""


@dataclass
class Evse:
    """The state of one EVSE; methods take the time and return effects."""

    spec: EvseSpec
    meter: Meter
    ev: Ev | None = None
    session: Session | None = None
    reservation: Reservation | None = None
    operative: bool = True
    pending_operative: bool | None = None  # availability change Scheduled until the tx ends
    error_code: str | None = None  # Faulted while set
    fault_info: str | None = None
    limit: Limit | None = None
    reported: Status | None = None
    last_at: datetime | None = None
    measurands: tuple[str, ...] = DEFAULT_MEASURANDS
    ended_measurands: tuple[str, ...] = (REGISTER,)
    sample_interval_s: int = 60
    effects: list[Effect] = field(default_factory=list)

    @property
    def evse_id(self) -> int:
        """The EVSE id (1.6 connectorId)."""
        return self.spec.evse_id

    @property
    def status(self) -> Status:
        """The status the connector is in now."""
        if self.error_code is not None:
            return Status.FAULTED
        if self.session is not None and not self.session.ended:
            return _SESSION_STATUS.get(self.session.charging_state, Status.SUSPENDED_EVSE)
        if self.ev is not None:
            return Status.FINISHING if self.session is not None else Status.PREPARING
        if not self.operative:
            return Status.UNAVAILABLE
        if self.reservation is not None:
            return Status.RESERVED
        return Status.AVAILABLE

    @property
    def active(self) -> Session | None:
        """The running transaction, if any."""
        return self.session if self.session is not None and not self.session.ended else None

    def take_effects(self) -> list[Effect]:
        """The effects since the last call, status changes included, in order."""
        self._status_effect()
        out, self.effects = self.effects, []
        return out

    # -- time ----------------------------------------------------------------------------------

    def advance(self, at: datetime) -> None:
        """Integrate energy up to `at`, follow the limit, take periodic samples, expire."""
        self._integrate(at)
        self._redraw(at)
        ev = self.ev
        full = ev is not None and ev.soc >= ev.target_soc
        if self.spec.is_dc and self.active is not None and full:
            # A DC EV ends the charge itself at its target (ISO 15118 / DIN 70121 stop).
            self.end(at, reason="StoppedByEV", trigger="ChargingStateChanged")
        session = self.active
        due = session.next_sample_at if session is not None else None
        if session is not None and due is not None and at >= due and self.sample_interval_s > 0:
            reading = self.meter.reading(at, "Sample.Periodic", self.measurands)
            self.effects.append(TxSampled(session, reading))
            step = timedelta(seconds=self.sample_interval_s)
            session.next_sample_at = due + step * ((at - due) // step + 1)
        if self.reservation is not None and at >= self.reservation.expires_at:
            self.effects.append(ReservationEnded(self.evse_id, self.reservation, "Expired"))
            self.reservation = None

    def set_limit(self, limit: Limit | None, at: datetime) -> None:
        """A new composite limit: integrate at the old draw, then follow the new one."""
        self._integrate(at)
        self.limit = limit
        self._redraw(at)

    def _integrate(self, at: datetime) -> None:
        if self.last_at is not None and at > self.last_at:
            seconds = Decimal(str((at - self.last_at).total_seconds()))
            added = self.meter.advance(seconds)
            if self.ev is not None and added > 0:
                self.ev.soc = soc_after(self.ev.model, self.ev.soc, added)
                self.meter.soc = self.ev.soc
        self.last_at = at if self.last_at is None or at > self.last_at else self.last_at

    def _redraw(self, at: datetime) -> None:
        session = self.active
        if self.ev is None or session is None or self.error_code is not None:
            offered = self.spec.max_power_w
            if self.limit is not None:
                offered = min(offered, self.limit.as_power(self.spec.phases))
            self.meter.draw = Draw(Decimal(0), (), NOMINAL_VOLTAGE_V, offered)
            return
        ev = self.ev
        now = draw(ev.model, self.spec, self.limit, soc=ev.soc, target_soc=ev.target_soc)
        self.meter.draw = now
        if now.flowing:
            state = "Charging"
        elif self.ev.soc >= self.ev.target_soc:
            state = "SuspendedEV"
        else:
            state = "SuspendedEVSE"
        if state != session.charging_state:
            session.charging_state = state
            self.effects.append(TxStateChanged(session, state, at))

    def _status_effect(self) -> None:
        status = self.status
        if status != self.reported:
            self.reported = status
            at = self.last_at
            assert at is not None, "an EVSE reports status only after it has seen the time"
            info = self.fault_info if status is Status.FAULTED else None
            self.effects.append(
                StatusChanged(self.evse_id, status, self.error_code or "NoError", info, at)
            )

    # -- cable and EV --------------------------------------------------------------------------

    def plug_in(self, ev: Ev, at: datetime) -> None:
        """An EV is connected."""
        self._integrate(at)
        if self.ev is not None or self.error_code is not None or not self.operative:
            raise EvseBusy(f"EVSE {self.evse_id} is {self.status.value}")
        self.ev = ev
        self.meter.soc = ev.soc
        self._redraw(at)

    def unplug(self, at: datetime) -> None:
        """The cable is pulled: a running transaction ends (EVDisconnected)."""
        self._integrate(at)
        self.ev = None  # gone before the transaction ends: its state is Idle, not EVConnected
        if self.active is not None:
            self.end(at, reason="EVDisconnected", trigger="EVCommunicationLost")
        self.session = None
        self.meter.soc = None
        self._apply_pending_availability()
        self._redraw(at)

    # -- transactions --------------------------------------------------------------------------

    def begin(
        self,
        at: datetime,
        *,
        token: IdToken,
        transaction_id: str,
        trigger: str,
        remote_start_id: int | None = None,
    ) -> Session:
        """Start a transaction for a token; the EV must be on the cable."""
        self._integrate(at)
        if self.ev is None or self.active is not None or self.error_code is not None:
            raise EvseBusy(f"EVSE {self.evse_id} cannot start a transaction now")
        if not self.operative:
            raise EvseBusy(f"EVSE {self.evse_id} is Unavailable")
        reservation_id = None
        if self.reservation is not None:
            if not self.reserved_for(token):
                raise EvseBusy(f"EVSE {self.evse_id} is reserved for another id token")
            reservation_id = self.reservation.id  # used up by its holder
            self.reservation = None
        session = Session(
            evse_id=self.evse_id,
            transaction_id=transaction_id,
            token=token,
            started_at=at,
            meter_start_wh=self.meter.reported_wh(),
            remote_start_id=remote_start_id,
            reservation_id=reservation_id,
            next_sample_at=at + timedelta(seconds=self.sample_interval_s),
        )
        self.session = session
        reading = self.meter.reading(at, "Transaction.Begin", (REGISTER,))
        self.effects.append(TxStarted(session, reading, trigger, at))
        self._redraw(at)
        return session

    def end(self, at: datetime, *, reason: str, trigger: str, token: IdToken | None = None) -> None:
        """Stop the running transaction (the EV may stay on the cable: Finishing)."""
        self._integrate(at)
        session = self.active
        if session is None:
            return
        session.meter_stop_wh = self.meter.reported_wh()
        session.stopped_at = at
        session.stop_reason = reason
        measurands = tuple(dict.fromkeys((REGISTER, *self.ended_measurands)))
        reading = self.meter.reading(at, "Transaction.End", measurands)
        state = "EVConnected" if self.ev is not None else "Idle"
        self.effects.append(TxEnded(session, reading, reason, trigger, token, at, state))
        self._redraw(at)
        self._apply_pending_availability()

    # -- availability, reservations, faults ----------------------------------------------------

    def set_operative(self, operative: bool, at: datetime) -> str:
        """ChangeAvailability: Accepted now, or Scheduled until the transaction ends."""
        self._integrate(at)
        if self.active is not None and not operative:
            self.pending_operative = operative
            return "Scheduled"
        self.operative = operative
        self.pending_operative = None
        return "Accepted"

    def _apply_pending_availability(self) -> None:
        if self.pending_operative is not None and self.active is None:
            self.operative = self.pending_operative
            self.pending_operative = None

    def reserve(self, reservation: Reservation, at: datetime) -> str:
        """ReserveNow: Accepted, or why not (Occupied, Faulted, Unavailable)."""
        self._integrate(at)
        if self.error_code is not None:
            return "Faulted"
        if not self.operative:
            return "Unavailable"
        if self.ev is not None or self.active is not None:
            return "Occupied"
        if self.reservation is not None and self.reservation.id != reservation.id:
            return "Occupied"
        self.reservation = reservation
        return "Accepted"

    def reserved_for(self, token: IdToken, group: str | None = None) -> bool:
        """True when no reservation holds the EVSE, or it holds it for this token (or group)."""
        held = self.reservation
        if held is None:
            return True
        if held.token.uid.lower() == token.uid.lower():
            return True
        return held.group is not None and group is not None and held.group == group

    def cancel_reservation(self, at: datetime) -> Reservation | None:
        """Drop the reservation (CancelReservation); returns it."""
        self._integrate(at)
        held, self.reservation = self.reservation, None
        return held

    def fault(self, at: datetime, *, error_code: str, info: str | None, stop_reason: str) -> None:
        """The EVSE fails: Faulted, and a running transaction ends."""
        self._integrate(at)
        self.error_code = error_code
        self.fault_info = info
        if self.active is not None:
            self.end(at, reason=stop_reason, trigger="AbnormalCondition")
        self._redraw(at)

    def clear_fault(self, at: datetime) -> None:
        """The fault is gone."""
        self._integrate(at)
        self.error_code = None
        self.fault_info = None
        self._redraw(at)
