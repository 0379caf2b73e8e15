"""A driver's agenda at one EVSE (pure): when to arrive, start, leave and pull the cable."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from joule.simulator.arrivals import (
    APP,
    TOKEN,
    SessionPattern,
    Visit,
    draw_visit,
    next_arrival_s,
)
from joule.simulator.effects import Status
from joule.simulator.evse import Evse
from joule.simulator.model import IdToken

ARRIVE = "arrive"
PRESENT = "present"  # hold the RFID card to the reader
APP_START = "app_start"  # ask the CSMS, through an app, to start remotely
STOP_BY_TOKEN = "stop_by_token"
UNPLUG = "unplug"

_FOREVER = timedelta(days=3650)


def _after(now: datetime, seconds: float) -> datetime:
    return now + (_FOREVER if seconds == float("inf") else timedelta(seconds=seconds))


@dataclass
class Driver:
    """The drivers of one EVSE, one visit at a time."""

    rng: random.Random
    pattern: SessionPattern
    tokens: Sequence[IdToken]
    app_available: bool
    start_timeout_s: float = 60.0  # ConnectionTimeOut: how long a driver waits for a start
    visit: Visit | None = None
    next_arrival_at: datetime | None = None
    present_at: datetime | None = None
    wait_until: datetime | None = None
    leave_at: datetime | None = None
    unplug_at: datetime | None = None

    def schedule(self, now: datetime, *, first: bool = False) -> None:
        """Draw when the next EV arrives."""
        self.next_arrival_at = _after(now, next_arrival_s(self.rng, self.pattern, first=first))

    def arrive(self, now: datetime) -> Visit:
        """An EV arrives: draw the visit and plan it."""
        visit = draw_visit(self.rng, self.pattern, self.tokens, app_available=self.app_available)
        self.visit = visit
        self.next_arrival_at = None
        self.present_at = now + timedelta(seconds=visit.present_after_s)
        self.leave_at = now + timedelta(seconds=visit.present_after_s + visit.dwell_s)
        self.unplug_at = None
        self.wait_until = None
        return visit

    def adopt(self, visit: Visit, now: datetime) -> None:
        """A visit that started elsewhere (a remote start brought the driver): plan its end."""
        self.visit = visit
        self.next_arrival_at = None
        self.present_at = None
        self.wait_until = None
        self.leave_at = now + timedelta(seconds=visit.dwell_s)
        self.unplug_at = None

    def next_action(self, evse: Evse, now: datetime, *, accepting: bool) -> str | None:
        """What this driver does now, if anything; the caller carries it out."""
        visit = self.visit
        if visit is None:
            due = self.next_arrival_at
            if due is None or now < due:
                return None
            if accepting and evse.status is Status.AVAILABLE:
                return ARRIVE
            self.schedule(now)  # the EVSE is busy or closed: this driver goes elsewhere
            return None
        if evse.ev is None:  # the cable is out: the visit is over
            self.visit = None
            self.schedule(now)
            return None
        if self.present_at is not None and now >= self.present_at:
            self.present_at = None
            self.wait_until = now + timedelta(seconds=self.start_timeout_s)
            return APP_START if visit.start_by == APP else PRESENT
        if evse.active is not None:
            if visit.leave_when_full and evse.status is Status.SUSPENDED_EV:
                # The app said "charging complete": this driver comes back for the car now.
                soon = now + timedelta(seconds=visit.unplug_after_s)
                if self.leave_at is None or soon < self.leave_at:
                    self.leave_at = soon
            if self.leave_at is not None and now >= self.leave_at:
                self.leave_at = None
                if visit.stop_by == TOKEN:
                    self.unplug_at = now + timedelta(seconds=visit.unplug_after_s)
                    return STOP_BY_TOKEN
                return UNPLUG
            return None
        if self.present_at is not None:
            return None
        waiting = evse.session is None and self.wait_until is not None and now < self.wait_until
        if waiting:
            return None  # the start is on its way (Authorize, or the app's remote start)
        if self.unplug_at is None:
            self.unplug_at = now + timedelta(seconds=visit.unplug_after_s)
        if now >= self.unplug_at:
            self.unplug_at = None
            return UNPLUG
        return None

    def refused(self, now: datetime) -> None:
        """The start was refused: the driver gives up and leaves."""
        self.wait_until = None
