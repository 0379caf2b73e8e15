"""What a simulated station is made of: EVSE layouts, EV models, id tokens, counters."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

NOMINAL_VOLTAGE_V = Decimal(230)  # phase-to-neutral, the conversion voltage of OCPP smart charging
MIN_AC_CURRENT_A = Decimal(6)  # IEC 61851-1 PWM minimum: below it an AC EVSE offers nothing


class ConnectorKind(StrEnum):
    """The supply an EVSE offers."""

    AC_1PH = "ac1"
    AC_3PH = "ac3"
    DC = "dc"


@dataclass(frozen=True, slots=True)
class EvseSpec:
    """One EVSE with one connector (1.6: connector N is EVSE N)."""

    evse_id: int
    kind: ConnectorKind
    max_current_a: Decimal  # AC: per phase; DC: the grid-side per-phase current at 3 phases
    max_power_w: Decimal
    connector_type: str  # 2.x ConnectorEnumType, e.g. cType2, sType2, cCCS2

    @property
    def phases(self) -> int:
        """Phases the EVSE draws from the grid (DC chargers are three-phase on the grid side)."""
        return 1 if self.kind is ConnectorKind.AC_1PH else 3

    @property
    def is_dc(self) -> bool:
        """True for a DC charger."""
        return self.kind is ConnectorKind.DC


def ac_evse(evse_id: int, *, phases: int, current_a: int, socket: bool = False) -> EvseSpec:
    """An AC EVSE: 1- or 3-phase at a current per phase."""
    amps = Decimal(current_a)
    return EvseSpec(
        evse_id=evse_id,
        kind=ConnectorKind.AC_1PH if phases == 1 else ConnectorKind.AC_3PH,
        max_current_a=amps,
        max_power_w=NOMINAL_VOLTAGE_V * amps * phases,
        connector_type="sType2" if socket else "cType2",
    )


def dc_evse(evse_id: int, *, power_kw: int) -> EvseSpec:
    """A DC EVSE (CCS2) of a rated power."""
    power = Decimal(power_kw) * 1000
    grid_current = (power / (NOMINAL_VOLTAGE_V * 3)).quantize(Decimal(1))
    return EvseSpec(
        evse_id=evse_id,
        kind=ConnectorKind.DC,
        max_current_a=grid_current,
        max_power_w=power,
        connector_type="cCCS2",
    )


# Station layouts by name: what a fleet is built from (the CLI's and profiles' vocabulary).
LAYOUTS: dict[str, tuple[EvseSpec, ...]] = {
    "ac1": (ac_evse(1, phases=1, current_a=32),),
    "ac3": (ac_evse(1, phases=3, current_a=16),),
    "ac3x2": (ac_evse(1, phases=3, current_a=32), ac_evse(2, phases=3, current_a=32, socket=True)),
    "dc": (dc_evse(1, power_kw=50),),
    "hpc": (dc_evse(1, power_kw=150), dc_evse(2, power_kw=150)),
    "mixed": (dc_evse(1, power_kw=50), ac_evse(2, phases=3, current_a=32)),
}


@dataclass(frozen=True, slots=True)
class EvModel:
    """An electric vehicle's charging behaviour."""

    name: str
    battery_wh: Decimal
    ac_max_current_a: Decimal  # per phase, the on-board charger's limit
    ac_phases: int
    dc_max_power_w: Decimal
    # DC taper: (SoC %, fraction of dc_max_power_w) breakpoints, linear between them.
    dc_curve: tuple[tuple[Decimal, Decimal], ...]
    dc_voltage_v: Decimal  # nominal pack voltage


def _curve(*points: tuple[int, str]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(soc), Decimal(fraction)) for soc, fraction in points)


_TAPER = _curve((0, "0.9"), (10, "1"), (50, "1"), (80, "0.45"), (90, "0.25"), (100, "0.05"))

EV_MODELS: dict[str, EvModel] = {
    "city": EvModel("city", Decimal(40_000), Decimal(32), 1, Decimal(50_000), _TAPER, Decimal(350)),
    "compact": EvModel(
        "compact", Decimal(58_000), Decimal(16), 3, Decimal(120_000), _TAPER, Decimal(400)
    ),
    "sedan": EvModel(
        "sedan", Decimal(77_000), Decimal(16), 3, Decimal(170_000), _TAPER, Decimal(400)
    ),
    "suv": EvModel("suv", Decimal(95_000), Decimal(32), 3, Decimal(150_000), _TAPER, Decimal(400)),
    "van": EvModel("van", Decimal(75_000), Decimal(16), 2, Decimal(100_000), _TAPER, Decimal(400)),
}


@dataclass(frozen=True, slots=True)
class IdToken:
    """What a driver presents: a uid and its 2.x type (1.6 sends only the uid as idTag)."""

    uid: str
    type: str = "ISO14443"


@dataclass
class Counters:
    """What a station (or a fleet, summed) has done; all ints except energy."""

    booted: int = 0  # stations with an Accepted boot (0/1 per station)
    boots: int = 0  # BootNotifications sent
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    messages_sent: int = 0  # CALLs we sent
    messages_received: int = 0  # frames we received
    calls_received: int = 0  # CALLs the CSMS sent us
    callerrors_received: int = 0
    callerrors_sent: int = 0
    timeouts: int = 0  # our CALLs the CSMS did not answer in time
    schema_failures: int = 0  # CSMS frames that broke the official schema
    invalid_sent: int = 0  # our own messages that broke it (before quirks): a simulator bug
    sessions_started: int = 0
    sessions_completed: int = 0
    sessions_refused: int = 0  # token not accepted
    transaction_messages_discarded: int = 0  # after the last attempt (C16 §3.7.1, E13.FR.04)
    queued: int = 0  # transaction messages waiting right now
    faults: int = 0
    energy_wh: Decimal = Decimal(0)  # metered energy of completed sessions
    callerror_codes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Counters) -> None:
        """Add another station's counters into these."""
        for f in fields(self):
            if f.name == "callerror_codes":
                for code, n in other.callerror_codes.items():
                    self.callerror_codes[code] = self.callerror_codes.get(code, 0) + n
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def note_callerror(self, code: str) -> None:
        """Count a CALLERROR received, by code."""
        self.callerrors_received += 1
        self.callerror_codes[code] = self.callerror_codes.get(code, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """A plain-data form (energy as a string) for inter-process reports."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["energy_wh"] = str(self.energy_wh)
        data["callerror_codes"] = dict(self.callerror_codes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counters:
        """The inverse of to_dict."""
        values = dict(data)
        values["energy_wh"] = Decimal(values.get("energy_wh", "0"))
        values["callerror_codes"] = dict(values.get("callerror_codes", {}))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class CompletedTransaction:
    """A finished transaction as the station metered it (what the CSMS must have stored)."""

    station_id: str
    evse_id: int
    transaction_id: str  # 1.6: the CSMS's integer id as text; 2.x: the station's transactionId
    id_token: str
    meter_start_wh: int
    meter_stop_wh: int
    stop_reason: str

    @property
    def energy_wh(self) -> int:
        """Metered energy: stop − start register (what the CSMS must bill)."""
        return self.meter_stop_wh - self.meter_start_wh
