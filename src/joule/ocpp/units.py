"""SI normalisation of sampled meter values (1.6 SampledValue, 2.x SampledValueType).

Every sample leaves here as a Decimal in a base unit (Wh, W, varh, var, VAh, VA, A, V, Hz, ...),
so energy is never a float and never kWh past the protocol edge.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Kilo units → (base unit, factor). C16 §7.47 UnitOfMeasure; P2 2.0.1 §7.44 / appendix units.
_KILO: dict[str, tuple[str, Decimal]] = {
    "kWh": ("Wh", Decimal(1000)),
    "kW": ("W", Decimal(1000)),
    "kvarh": ("varh", Decimal(1000)),
    "kvar": ("var", Decimal(1000)),
    "kVAh": ("VAh", Decimal(1000)),
    "kVA": ("VA", Decimal(1000)),
}

# Spellings that mean the same unit. 1.6 errata keep the schema's "Celcius" and ask receivers to
# accept "Celsius" too (Q10); "Hertz" is the OCPP name, "Hz" what chargers send (Q11).
_ALIASES: dict[str, str] = {
    "Celcius": "Celsius",
    "Celsius": "Celsius",
    "Hertz": "Hz",
    "Hz": "Hz",
}

# The unit a sample has when the station leaves it out. C16 §7.47 and P2 UnitOfMeasureType give
# "Wh" as the default for energy; the other measurands carry their natural base unit.
_DEFAULT_UNIT_BY_PREFIX: tuple[tuple[str, str | None], ...] = (
    ("Energy.Reactive.", "varh"),
    ("Energy.Apparent.", "VAh"),
    ("Energy.", "Wh"),
    ("Power.Factor", None),
    ("Power.Reactive.", "var"),
    ("Power.", "W"),
    ("Current.", "A"),
    ("Voltage", "V"),
    ("Frequency", "Hz"),
    ("Temperature", "Celsius"),
    ("SoC", "Percent"),
    ("RPM", None),
)

# C16 §7.31 / P2 SampledValueType: a sample without measurand is the energy import register.
DEFAULT_MEASURAND = "Energy.Active.Import.Register"


def default_unit(measurand: str | None) -> str | None:
    """The unit a sample of this measurand has when the station sends none."""
    name = measurand or DEFAULT_MEASURAND
    for prefix, unit in _DEFAULT_UNIT_BY_PREFIX:
        if name.startswith(prefix):
            return unit
    return None


def parse_decimal(value: str | int | float | Decimal) -> Decimal | None:
    """A finite Decimal from a sample value (string in 1.6, number in 2.x), or None."""
    if type(value) is str:  # the usual case first (1.6): ten of these per MeterValues (T3)
        try:
            number = Decimal(value)  # surrounding whitespace is allowed by Decimal itself
        except InvalidOperation:
            return None
    elif isinstance(value, bool):
        return None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        # str() of a float is its shortest round-trip text: 0.1 stays 0.1, not 0.1000…0055.
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def normalise_sample(
    measurand: str | None,
    unit: str | None,
    value_str: str | int | float | Decimal,
    *,
    multiplier: int = 0,
) -> tuple[Decimal | None, str | None]:
    """The sample as (value, unit) in base SI units; value is None when it is not a number.

    `multiplier` is the 2.x UnitOfMeasureType power of ten (value × 10^multiplier).
    """
    number = parse_decimal(value_str)
    name = unit or default_unit(measurand)
    if name is not None:
        name = _ALIASES.get(name, name)
        if name in _KILO:
            name, factor = _KILO[name]
            if number is not None:
                number *= factor
    if number is not None and multiplier:
        number = number.scaleb(multiplier)
    return number, name
