"""An EVSE's energy meter (pure): a monotone register and the instantaneous measurands.

The register accumulates exact Decimal Wh; it is reported as whole Wh (1.6 meterStart/meterStop
are integers, C16 §6.45/§6.51), so the energy a transaction reports — stop − start — is exactly
the difference of two reported registers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from joule.simulator.curves import Draw, energy_wh

# Measurands a station samples by default (MeterValuesSampledData / TxUpdatedMeasurands).
DEFAULT_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "Power.Offered",
    "SoC",
)
REGISTER = "Energy.Active.Import.Register"
_PHASES = ("L1", "L2", "L3")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value, version-neutral (Decimal value in `unit`)."""

    measurand: str
    value: Decimal
    unit: str
    context: str
    phase: str | None = None
    location: str = "Outlet"


@dataclass(frozen=True, slots=True)
class Reading:
    """A set of samples taken at one instant (a 1.6 MeterValue / 2.x MeterValueType)."""

    at: datetime
    samples: tuple[Sample, ...]

    def register_wh(self) -> int | None:
        """The energy register in this reading, if sampled."""
        for sample in self.samples:
            if sample.measurand == REGISTER:
                return int(sample.value)
        return None


class Meter:
    """A meter that integrates power over time; never runs backwards."""

    def __init__(self, register_wh: Decimal = _ZERO, *, dc: bool = False) -> None:
        self._register = register_wh
        self.dc = dc
        self.draw = Draw(_ZERO, (), _ZERO, _ZERO)
        self.soc: Decimal | None = None

    @property
    def register_wh(self) -> Decimal:
        """The exact register in Wh."""
        return self._register

    def reported_wh(self) -> int:
        """The register as reported: whole Wh, rounded down so it never runs ahead."""
        return int(self._register.to_integral_value(ROUND_FLOOR))

    def advance(self, seconds: Decimal) -> Decimal:
        """Integrate the current draw over `seconds`; return the Wh added."""
        if seconds <= 0 or not self.draw.flowing:
            return _ZERO
        added = energy_wh(self.draw.power_w, seconds)
        self._register += added
        return added

    def reading(
        self, at: datetime, context: str, measurands: tuple[str, ...] = DEFAULT_MEASURANDS
    ) -> Reading:
        """The measurands asked for, as one reading in `context` (e.g. Sample.Periodic)."""
        samples: list[Sample] = []
        draw = self.draw
        for measurand in measurands:
            if measurand == REGISTER:
                samples.append(Sample(measurand, Decimal(self.reported_wh()), "Wh", context))
            elif measurand == "Power.Active.Import":
                samples.append(Sample(measurand, draw.power_w.quantize(Decimal(1)), "W", context))
            elif measurand == "Power.Offered":
                samples.append(Sample(measurand, draw.offered_w.quantize(Decimal(1)), "W", context))
            elif measurand == "Current.Import":
                samples.extend(self._currents(context))
            elif measurand == "Voltage":
                samples.extend(self._voltages(context))
            elif measurand == "SoC" and self.dc and self.soc is not None:
                # Only a DC charger learns the SoC from the EV (ISO 15118 / DIN 70121).
                soc = self.soc.quantize(Decimal(1), ROUND_FLOOR)
                samples.append(Sample(measurand, soc, "Percent", context, location="EV"))
        return Reading(at, tuple(samples))

    def _currents(self, context: str) -> list[Sample]:
        currents = self.draw.currents_a
        if self.dc or not currents:
            value = currents[0] if currents else _ZERO
            return [Sample("Current.Import", value, "A", context)]
        return [
            Sample("Current.Import", amps, "A", context, phase=phase)
            for phase, amps in zip(_PHASES, currents, strict=False)
        ]

    def _voltages(self, context: str) -> list[Sample]:
        volts = self.draw.voltage_v.quantize(Decimal("0.1"))
        if self.dc or len(self.draw.currents_a) <= 1:
            phase = None if self.dc else "L1-N"
            return [Sample("Voltage", volts, "V", context, phase=phase)]
        return [
            Sample("Voltage", volts, "V", context, phase=f"{phase}-N")
            for phase in _PHASES[: len(self.draw.currents_a)]
        ]
