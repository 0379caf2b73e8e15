"""Stored sampled values read the same whichever form they were stored in (ADR 0014 arrays or
ADR 0015's as-sent lists), and the as-sent form normalises each version's sample exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from joule.ocpp.sampled import pack, unpack

# A 1.6 reading with a kWh register, a kW power, a phase current, an unlabelled voltage, an inlet
# register, a temperature in the schema's own spelling and a signed blob …
SENT_16: list[dict[str, Any]] = [
    {"value": "22.5", "unit": "kWh", "context": "Sample.Periodic"},
    {"value": "11.04", "measurand": "Power.Active.Import", "unit": "kW"},
    {"value": "31.9", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
    {"value": "229", "measurand": "Voltage", "phase": "L2-N"},
    {"value": "8810", "location": "Inlet"},
    {"value": "31.5", "measurand": "Temperature", "unit": "Celcius"},
    {"value": "OCMF|{}|{}", "format": "SignedData"},
]
# … and the same reading as ADR 0014's writer stored it (normalised arrays, exact decimal text).
REGISTER = "Energy.Active.Import.Register"
STORED_0014 = [
    [REGISTER, None, None, "Sample.Periodic", "22500.0", "Wh", "22.5", "kWh", None],
    ["Power.Active.Import", None, None, None, "11040.00", "W", "11.04", "kW", None],
    ["Current.Import", "L2", None, None, "31.9", "A", "31.9", "A", None],
    ["Voltage", "L2-N", None, None, "229", "V", "229", None, None],
    [REGISTER, None, "Inlet", None, "8810", "Wh", "8810", None, None],
    ["Temperature", None, None, None, "31.5", "Celsius", "31.5", "Celcius", None],
    [REGISTER, None, None, None, None, None, "OCMF|{}|{}", None, "OCMF|{}|{}"],
]  # fmt: skip


def test_both_stored_forms_of_a_16_reading_read_the_same() -> None:
    new = unpack(pack("1.6", SENT_16))
    old = unpack(orjson.dumps(STORED_0014).decode())
    assert new == old
    assert [row[4] for row in new] == [
        22500,
        11040,
        Decimal("31.9"),
        229,
        8810,
        Decimal("31.5"),
        None,
    ]


def test_2x_samples_read_with_multiplier_and_signed_data() -> None:
    sent = [
        {"value": 12.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 3},
         "context": "Sample.Clock"},
        {"value": 4711, "signedMeterValue": {"signedMeterData": "AP//", "signingMethod": "X",
                                             "encodingMethod": "EDL", "publicKey": "K=="}},
        {"value": 0.1, "measurand": "Current.Import", "phase": "L2", "location": "Outlet"},
    ]  # fmt: skip
    stored = pack("2.x", sent)
    assert orjson.loads(stored) == {"ocpp": "2.x", "sampledValue": sent}  # kept whole, as sent
    assert unpack(stored) == [
        ("Energy.Active.Import.Register", None, None, "Sample.Clock", Decimal("12500000.0"),
         "Wh", "12.5", "kWh*10^3", None),
        ("Energy.Active.Import.Register", None, None, None, 4711, "Wh", "4711", None, "AP//"),
        ("Current.Import", "L2", "Outlet", None, Decimal("0.1"), "A", "0.1", None, None),
    ]  # fmt: skip


@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**12,
                      min_value=-(10**12)),
    unit=st.sampled_from([None, "Wh", "kWh", "W", "kW", "A", "V"]),
)  # fmt: skip
def test_a_16_value_reads_back_exactly_in_its_base_unit(value: Decimal, unit: str | None) -> None:
    text = str(value)
    sent = {"value": text, "measurand": "Energy.Active.Import.Register"}
    if unit is not None:
        sent["unit"] = unit
    [(_, _, _, _, read, base, raw, raw_unit, _)] = unpack(pack("1.6", [sent]))
    factor = 1000 if unit in ("kWh", "kW") else 1
    assert read == Decimal(text) * factor  # exact: never through a float
    assert (raw, raw_unit) == (text, unit)
    assert base == {None: "Wh", "kWh": "Wh", "kW": "W"}.get(unit, unit)


def test_a_value_too_large_for_any_meter_reads_as_not_a_number() -> None:
    [row] = unpack(pack("1.6", [{"value": "1e30", "measurand": "Voltage"}]))
    assert (row[4], row[6]) == (None, "1e30")
