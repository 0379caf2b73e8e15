"""Metering rules: which sample is the energy register, and when a reading is implausible (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from joule.ocpp.sampled import WHOLE_EVSE_LOCATIONS

ENERGY_REGISTER = "Energy.Active.Import.Register"

# Q16: a register reported in kWh but labelled Wh falls by a factor ≈1000 against the previous
# Wh reading; energy charged in between makes the factor a little smaller, never larger.
_KWH_AS_WH_MIN_FACTOR = Decimal(500)
_KWH_AS_WH_MAX_FACTOR = Decimal(1100)

# Quirk counter names (scenario 40), kept in Station.quirks.
QUIRK_TRANSACTION_ID_ZERO = "transaction_id_zero"
QUIRK_IMPLAUSIBLE_TIMESTAMP = "implausible_timestamp"
QUIRK_EMPTY_SAMPLED_VALUE = "empty_sampled_value"
QUIRK_KWH_AS_WH = "kwh_labelled_wh"
QUIRK_METER_RESET = "meter_register_decreased"
QUIRK_IMPLAUSIBLE_METER_VALUE = "implausible_meter_value"

# No real energy register reaches 1 PWh; beyond it a reading is garbage (and would not fit the
# Numeric(20, 4) energy columns). Stored sample values must fit Numeric(24, 6).
_MAX_REGISTER_WH = Decimal(10) ** 15
_MAX_STORED_VALUE = Decimal(10) ** 18


def is_live_register(measurand: str, location: str | None, phase: str | None) -> bool:
    """True for the sample behind live energy: import register, outlet, all phases."""
    return measurand == ENERGY_REGISTER and location in WHOLE_EVSE_LOCATIONS and phase is None


def plausible_register(wh: Decimal) -> bool:
    """True when an energy register reading can be real: 0 ≤ wh < 1 PWh."""
    return 0 <= wh < _MAX_REGISTER_WH


def storable_value(value: Decimal | None) -> Decimal | None:
    """The value if the meter_values column can hold it, else None (the raw text is kept)."""
    if value is None or abs(value) >= _MAX_STORED_VALUE:
        return None
    return value


def looks_like_kwh_as_wh(previous_wh: Decimal, current_wh: Decimal) -> bool:
    """True when a Wh register dropped by a factor ≈1000: kWh values labelled Wh (Q16)."""
    if current_wh <= 0 or previous_wh <= current_wh:
        return False
    factor = previous_wh / current_wh
    return _KWH_AS_WH_MIN_FACTOR <= factor <= _KWH_AS_WH_MAX_FACTOR


@dataclass(frozen=True, slots=True)
class RegisterUpdate:
    """Whether a new register reading becomes the transaction's latest, and any quirk seen."""

    advance: bool
    quirk: str | None = None


def plan_register_update(
    last_wh: Decimal | None, last_at: datetime | None, new_wh: Decimal, new_at: datetime
) -> RegisterUpdate:
    """Decide whether a register reading replaces the latest one (both times aware UTC)."""
    if last_wh is None or last_at is None:
        return RegisterUpdate(True)
    if new_at < last_at:
        # Older than what we have (offline replay, out-of-order 2.x events): keep it as a row only.
        return RegisterUpdate(False)
    if new_wh >= last_wh:
        return RegisterUpdate(True)
    # The register went backwards. Flag it, do not guess (Q16): live energy keeps what is known.
    if looks_like_kwh_as_wh(last_wh, new_wh):
        return RegisterUpdate(False, QUIRK_KWH_AS_WH)
    return RegisterUpdate(False, QUIRK_METER_RESET)
