"""SI normalisation of sampled values: Decimal values in base units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from joule.ocpp.units import default_unit, normalise_sample, parse_decimal


@pytest.mark.parametrize(
    ("measurand", "unit", "value", "expected"),
    [
        ("Energy.Active.Import.Register", "kWh", "12.345", (Decimal("12345"), "Wh")),
        ("Energy.Active.Import.Register", "Wh", "1500", (Decimal("1500"), "Wh")),
        ("Power.Active.Import", "kW", "7.4", (Decimal("7400"), "W")),
        ("Energy.Reactive.Import.Register", "kvarh", "0.5", (Decimal("500"), "varh")),
        ("Power.Reactive.Import", "kvar", "1.25", (Decimal("1250"), "var")),
        ("Power.Offered", "kVA", "11", (Decimal("11000"), "VA")),
        ("Energy.Apparent.Import", "kVAh", "2", (Decimal("2000"), "VAh")),
        ("Temperature", "Celcius", "21.5", (Decimal("21.5"), "Celsius")),
        ("Temperature", "Celsius", "21.5", (Decimal("21.5"), "Celsius")),
        ("Temperature", "Fahrenheit", "70", (Decimal("70"), "Fahrenheit")),
        ("Temperature", "K", "293.15", (Decimal("293.15"), "K")),
        ("SoC", "Percent", "80", (Decimal("80"), "Percent")),
        ("Current.Import", "A", "16.0", (Decimal("16.0"), "A")),
        ("Voltage", "V", "230", (Decimal("230"), "V")),
        ("Frequency", "Hertz", "50.01", (Decimal("50.01"), "Hz")),
        ("Frequency", "Hz", "49.99", (Decimal("49.99"), "Hz")),
        ("Power.Factor", None, "0.98", (Decimal("0.98"), None)),
        ("RPM", None, "1200", (Decimal("1200"), None)),
        ("Energy.Active.Import.Register", "furlong", "3", (Decimal("3"), "furlong")),
    ],
)
def test_normalise(
    measurand: str, unit: str | None, value: str, expected: tuple[Decimal, str | None]
) -> None:
    result = normalise_sample(measurand, unit, value)
    assert result == expected
    assert isinstance(result[0], Decimal)


@pytest.mark.parametrize(
    ("measurand", "unit"),
    [
        (None, "Wh"),  # no measurand: Energy.Active.Import.Register (C16 §7.31)
        ("Energy.Active.Import.Register", "Wh"),
        ("Energy.Active.Export.Interval", "Wh"),
        ("Energy.Active.Net", "Wh"),
        ("Energy.Reactive.Export.Register", "varh"),
        ("Energy.Apparent.Net", "VAh"),
        ("Power.Active.Import", "W"),
        ("Power.Offered", "W"),
        ("Power.Reactive.Export", "var"),
        ("Power.Factor", None),
        ("Current.Offered", "A"),
        ("Voltage", "V"),
        ("Frequency", "Hz"),
        ("Temperature", "Celsius"),
        ("SoC", "Percent"),
        ("Something.New", None),
    ],
)
def test_default_unit_per_measurand(measurand: str | None, unit: str | None) -> None:
    assert default_unit(measurand) == unit


def test_missing_unit_takes_the_default() -> None:
    assert normalise_sample(None, None, "1500") == (Decimal("1500"), "Wh")
    assert normalise_sample("Power.Active.Import", "", "7000") == (Decimal("7000"), "W")


@pytest.mark.parametrize("value", ["", "abc", "1,5", "NaN", "Infinity", "-inf", "1e", "0x10"])
def test_invalid_values_are_none(value: str) -> None:
    assert normalise_sample("Energy.Active.Import.Register", "kWh", value) == (None, "Wh")


def test_numbers_from_2x_payloads() -> None:
    assert normalise_sample("Energy.Active.Import.Register", "kWh", 0.1) == (Decimal("100.0"), "Wh")
    assert normalise_sample("Energy.Active.Import.Register", "Wh", 1500) == (Decimal(1500), "Wh")
    assert normalise_sample(None, "Wh", True) == (None, "Wh")


def test_multiplier_is_a_power_of_ten() -> None:
    assert normalise_sample("Energy.Active.Import.Register", "Wh", 15, multiplier=3) == (
        Decimal("15E+3"),
        "Wh",
    )
    assert normalise_sample("Current.Import", "A", "1600", multiplier=-2) == (Decimal("16.00"), "A")
    assert normalise_sample("Power.Active.Import", "kW", "7.4", multiplier=1) == (
        Decimal("74000"),
        "W",
    )


def test_parse_decimal() -> None:
    assert parse_decimal(" 12.50 ") == Decimal("12.50")
    assert parse_decimal("1e3") == Decimal("1E+3")
    assert parse_decimal(Decimal("2.5")) == Decimal("2.5")
    assert parse_decimal(Decimal("NaN")) is None
    assert parse_decimal(float("inf")) is None
