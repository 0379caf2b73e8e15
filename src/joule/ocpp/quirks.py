"""Tolerant normalisation of inbound requests before schema validation (scenario 40, Q10–Q15).

Real chargers send meter data and status that break the schema in harmless ways. Answering those
with a CALLERROR makes the station retry and finally discard the message (C16 §3.7.1), so meter
data would be lost. Each repair here is named; the caller logs and counts the names per station
model, and the raw frame is kept by the gateway. Only messages in `_REPAIRS` are looked at, so
every other action returns at the cost of one dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from joule.ocpp.schemas import load_schema
from joule.ocpp.versions import OcppVersion

# Q14: a reading without samples dropped, or an optional list of readings sent empty where the
# schema demands one left out (TransactionEvent.meterValue: the rest of the event counts).
EMPTY_SAMPLED_VALUE = "empty_sampled_value"
NUMERIC_VALUE = "numeric_value"  # Q13: 1.6 value sent as a JSON number, made a string
STRING_VALUE = "string_value"  # 2.x value sent as a numeric string, made a number
UNIT_CELSIUS = "unit_celsius_spelling"  # Q10: Celsius/Celcius mapped to the schema's spelling
UNIT_HZ = "unit_hz"  # Q11: "Hz" mapped to the schema's "Hertz"
UNIT_CASE = "unit_case"  # e.g. "kwh" mapped to the schema's "kWh"
UNREPRESENTABLE_UNIT = "unrepresentable_unit"  # 1.6 StopTransaction cannot carry Hertz: dropped
UNKNOWN_ERROR_CODE = "unknown_error_code"  # Q12: errorCode "Error" → OtherError, raw kept
INFO_TRUNCATED = "info_truncated"  # Q15: StatusNotification info cut to the schema maximum

_MAX_EXPONENT = 20
_DROP = object()  # a sample the target schema cannot represent

Quirks = list[str]
Payload = dict[str, Any]


def _note(quirks: Quirks, name: str) -> None:
    if name not in quirks:
        quirks.append(name)


def _property(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    node = schema
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


_SAMPLE_PATH = ("[]", "sampledValue", "[]")


@cache
def _v16_units(action: str, key: str) -> frozenset[str]:
    schema = load_schema(OcppVersion.V16, action, "request")
    return frozenset(_property(schema, key, *_SAMPLE_PATH, "unit")["enum"])


@cache
def _v16_unit_repairs(action: str, key: str) -> dict[str, tuple[str, str] | None]:
    """Lower-cased unit → (schema spelling, quirk), or None when this schema cannot carry it."""
    allowed = _v16_units(action, key)
    every_unit = _v16_units("MeterValues", "meterValue") | allowed
    repairs: dict[str, tuple[str, str] | None] = {}
    for unit in sorted(every_unit):
        repairs[unit.lower()] = (unit, UNIT_CASE) if unit in allowed else None
    for spelling in ("celsius", "celcius"):
        # 1.6 errata: receivers accept both spellings (Q10); map to one the schema lists.
        target = "Celsius" if "Celsius" in allowed else "Celcius"
        repairs[spelling] = (target, UNIT_CELSIUS) if target in allowed else None
    repairs["hz"] = ("Hertz", UNIT_HZ) if "Hertz" in allowed else None
    return repairs


def _v16_sample(action: str, key: str) -> Callable[[Payload, Quirks], Any]:
    allowed = _v16_units(action, key)
    repairs = _v16_unit_repairs(action, key)

    def repair(sample: Payload, quirks: Quirks) -> Any:
        value, unit = sample.get("value"), sample.get("unit")
        fixed = sample
        if isinstance(value, int | float) and not isinstance(value, bool):
            fixed = {**fixed, "value": str(value)}  # Q13: C16 §7.43 value is a string
            _note(quirks, NUMERIC_VALUE)
        if isinstance(unit, str) and unit not in allowed:
            key_ = unit.strip().lower()
            if key_ in repairs:
                repaired = repairs[key_]
                if repaired is None:
                    _note(quirks, UNREPRESENTABLE_UNIT)
                    return _DROP
                fixed = {**fixed, "unit": repaired[0]}
                _note(quirks, repaired[1])
        return fixed

    return repair


def _v2x_sample(sample: Payload, quirks: Quirks) -> Any:
    value = sample.get("value")
    if not isinstance(value, str):
        return sample
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return sample  # not a number at all: leave it for the validator (TypeConstraint)
    if not number.is_finite() or number.adjusted() > _MAX_EXPONENT:
        return sample  # no meter reads 10^21 of anything: not worth a huge int or an inf float
    # P2 SampledValueType.value is a JSON number; integral text stays an exact int.
    exact = int(number) if number == number.to_integral_value() and "." not in value else None
    _note(quirks, STRING_VALUE)
    return {**sample, "value": exact if exact is not None else float(number)}


def _readings(readings: list[Any], repair: Callable[[Payload, Quirks], Any], quirks: Quirks) -> Any:
    """The meter-value list with samples repaired and empty readings dropped; same list if clean."""
    result: list[Any] | None = None
    for index, reading in enumerate(readings):
        new = reading
        samples = reading.get("sampledValue") if isinstance(reading, dict) else None
        if isinstance(samples, list):
            new_samples = _samples(samples, repair, quirks)
            if not new_samples:
                # Q14 (`sampledValue: []`, or every sample unrepresentable): nothing to store.
                _note(quirks, EMPTY_SAMPLED_VALUE)
                new = None
            elif new_samples is not samples:
                new = {**reading, "sampledValue": new_samples}
        if new is not reading and result is None:
            result = list(readings[:index])
        if result is not None and new is not None:
            result.append(new)
    return readings if result is None else result


def _samples(samples: list[Any], repair: Callable[[Payload, Quirks], Any], quirks: Quirks) -> Any:
    result: list[Any] | None = None
    for index, sample in enumerate(samples):
        new = repair(sample, quirks) if isinstance(sample, dict) else sample
        if new is not sample and result is None:
            result = list(samples[:index])
        if result is not None and new is not _DROP:
            result.append(new)
    return samples if result is None else result


def _meter_values(
    key: str,
    repair: Callable[[Payload, Quirks], Any],
    *,
    optional: bool,
    leave_out_empty: bool = False,
) -> Callable[[Payload], tuple[Payload, Quirks]]:
    """`leave_out_empty`: the list is optional but, when present, must hold a reading (minItems
    1; test_quirks checks each registration against the schemas). A required list sent empty
    is a message with nothing in it, refused as the schema says (scenario 23)."""

    def normalise(payload: Payload) -> tuple[Payload, Quirks]:
        readings = payload.get(key)
        if not isinstance(readings, list):
            return payload, []
        if not readings:
            if not leave_out_empty:
                return payload, []
            # A TransactionEvent (the one that ends a transaction, say) must not be refused, and
            # finally discarded by the station, over an empty list of readings: it is left out.
            return {k: v for k, v in payload.items() if k != key}, [EMPTY_SAMPLED_VALUE]
        quirks: Quirks = []
        fixed = _readings(readings, repair, quirks)
        if fixed is readings:
            return payload, quirks
        if not fixed and optional:
            # An optional list left empty is simply absent (TransactionEvent.meterValue,
            # StopTransaction.transactionData); a required one stays [] for the domain to ack.
            return {k: v for k, v in payload.items() if k != key}, quirks
        return {**payload, key: fixed}, quirks

    return normalise


@cache
def _v16_status_limits() -> tuple[frozenset[str], int, int]:
    schema = load_schema(OcppVersion.V16, "StatusNotification", "request")
    return (
        frozenset(_property(schema, "errorCode")["enum"]),
        int(_property(schema, "info")["maxLength"]),
        int(_property(schema, "vendorErrorCode")["maxLength"]),
    )


def _v16_status(payload: Payload) -> tuple[Payload, Quirks]:
    codes, info_max, vendor_max = _v16_status_limits()
    code, info = payload.get("errorCode"), payload.get("info")
    quirks: Quirks = []
    fixed = payload
    if isinstance(code, str) and code not in codes:
        # Q12 (e.g. Legrand "Error"): keep the raw code where the schema has room for it.
        fixed = {**fixed, "errorCode": "OtherError"}
        if not fixed.get("vendorErrorCode"):
            fixed["vendorErrorCode"] = code[:vendor_max]
        _note(quirks, UNKNOWN_ERROR_CODE)
    if isinstance(info, str) and len(info) > info_max:
        fixed = {**fixed, "info": info[:info_max]}  # Q15: free text, not billing data
        _note(quirks, INFO_TRUNCATED)
    return fixed, quirks


@cache
def _repairs(family: str) -> dict[str, Callable[[Payload], tuple[Payload, Quirks]]]:
    if family == "1.6":
        return {
            "MeterValues": _meter_values(
                "meterValue",
                _v16_sample("MeterValues", "meterValue"),
                optional=False,
            ),
            "StopTransaction": _meter_values(
                "transactionData",
                _v16_sample("StopTransaction", "transactionData"),
                optional=True,  # and 1.6 lets it be empty: valid as sent, nothing left out
            ),
            "StatusNotification": _v16_status,
        }
    return {
        "MeterValues": _meter_values("meterValue", _v2x_sample, optional=False),
        "TransactionEvent": _meter_values(
            "meterValue", _v2x_sample, optional=True, leave_out_empty=True
        ),
    }


def normalise_request(
    version: OcppVersion, action: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The payload with known charger quirks repaired (a copy when changed) and their names."""
    repair = _repairs(version.family).get(action)
    if repair is None:
        return payload, []
    return repair(payload)
