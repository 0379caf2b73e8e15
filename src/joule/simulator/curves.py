"""EV charge curves (pure): what an EV draws from an EVSE under a charging limit.

AC: a constant current per phase, the least of the EV's on-board charger, the EVSE and the limit;
below the IEC 61851-1 minimum of 6 A nothing flows (the EVSE suspends). DC: the EV's power tapers
by state of charge, capped by the EVSE and the limit. Limits in A are per-phase grid current and
convert to W with 230 V × phases (OCPP smart charging's conversion, energy.md §2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from joule.simulator.model import MIN_AC_CURRENT_A, NOMINAL_VOLTAGE_V, EvModel, EvseSpec

FULL_SOC = Decimal(100)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Limit:
    """A charging limit: a value in A (per phase) or W (total)."""

    value: Decimal
    unit: str  # "A" | "W"

    def as_current(self, phases: int) -> Decimal:
        """The limit as a per-phase current for this many phases."""
        if self.unit == "A":
            return self.value
        return self.value / (NOMINAL_VOLTAGE_V * phases)

    def as_power(self, phases: int) -> Decimal:
        """The limit as a total power for this many phases."""
        if self.unit == "W":
            return self.value
        return self.value * NOMINAL_VOLTAGE_V * phases


@dataclass(frozen=True, slots=True)
class Draw:
    """What flows right now: total power, the current per used phase, and the voltage."""

    power_w: Decimal
    currents_a: tuple[Decimal, ...]  # AC: one per phase used (L1, L2, L3); DC: one value
    voltage_v: Decimal
    offered_w: Decimal  # what the EVSE offers under its limit (Power.Offered)

    @property
    def flowing(self) -> bool:
        """True when energy is being transferred."""
        return self.power_w > 0


def ac_phases(ev: EvModel, evse: EvseSpec) -> int:
    """Phases used: the fewer of the EV's on-board charger and the EVSE."""
    return min(ev.ac_phases, evse.phases)


def dc_taper(curve: tuple[tuple[Decimal, Decimal], ...], soc: Decimal) -> Decimal:
    """The fraction of peak DC power the EV accepts at this SoC (piecewise linear)."""
    if not curve:
        return Decimal(1)
    if soc <= curve[0][0]:
        return curve[0][1]
    for (soc_a, frac_a), (soc_b, frac_b) in pairwise(curve):
        if soc <= soc_b:
            return frac_a + (frac_b - frac_a) * (soc - soc_a) / (soc_b - soc_a)
    return curve[-1][1]


def dc_voltage(ev: EvModel, soc: Decimal) -> Decimal:
    """Pack voltage rises with SoC: 90 % of nominal when empty, 105 % when full."""
    return (ev.dc_voltage_v * (Decimal("0.90") + Decimal("0.15") * soc / FULL_SOC)).quantize(
        Decimal("0.1")
    )


def ac_draw(ev: EvModel, evse: EvseSpec, limit: Limit | None, *, wants: bool) -> Draw:
    """AC: constant current = min(EV, EVSE, limit); nothing below 6 A or when the EV is done."""
    phases = ac_phases(ev, evse)
    offered_a = evse.max_current_a
    if limit is not None:
        offered_a = min(offered_a, limit.as_current(phases))
    offered_a = offered_a if offered_a >= MIN_AC_CURRENT_A else _ZERO
    offered_w = NOMINAL_VOLTAGE_V * offered_a * phases
    current = min(ev.ac_max_current_a, offered_a) if wants else _ZERO
    current = current.quantize(Decimal("0.1"))
    power = NOMINAL_VOLTAGE_V * current * phases
    return Draw(power, (current,) * phases, NOMINAL_VOLTAGE_V, offered_w)


def dc_draw(ev: EvModel, evse: EvseSpec, limit: Limit | None, *, soc: Decimal, wants: bool) -> Draw:
    """DC: the EV's tapered power by SoC, capped by the EVSE and the limit."""
    offered = evse.max_power_w
    if limit is not None:
        offered = min(offered, limit.as_power(evse.phases))
    offered = max(offered, _ZERO)
    volts = dc_voltage(ev, soc)
    if not wants:
        return Draw(_ZERO, (_ZERO,), volts, offered)
    power = min(offered, ev.dc_max_power_w * dc_taper(ev.dc_curve, soc)).quantize(Decimal(1))
    current = (power / volts).quantize(Decimal("0.1"))
    return Draw(power, (current,), volts, offered)


def draw(
    ev: EvModel, evse: EvseSpec, limit: Limit | None, *, soc: Decimal, target_soc: Decimal
) -> Draw:
    """What the EV draws on this EVSE now; it wants energy until it reaches its target SoC."""
    wants = soc < target_soc
    if evse.is_dc:
        return dc_draw(ev, evse, limit, soc=soc, wants=wants)
    return ac_draw(ev, evse, limit, wants=wants)


def energy_wh(power_w: Decimal, seconds: Decimal) -> Decimal:
    """Energy in Wh of a constant power over a number of seconds."""
    return power_w * seconds / 3600


def soc_after(ev: EvModel, soc: Decimal, added_wh: Decimal) -> Decimal:
    """State of charge after adding energy to the pack (never above 100 %)."""
    return min(FULL_SOC, soc + added_wh * FULL_SOC / ev.battery_wh)
