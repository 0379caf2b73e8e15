"""Sampled values between the wire and the store: one version-neutral shape, packed as sent.

A stored MeterValue keeps its reading's `sampledValue` list as the station sent it (after quirk
repair) and is normalised to SI units when read (ADR 0015): the write path of every MeterValues
only looks at the whole-EVSE samples (register and power), the rest is one `orjson.dumps`.
`unpack` turns either stored form — this one, or ADR 0014's normalised arrays — into the
SAMPLE_FIELDS tuples readers get.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from joule.ocpp.units import DEFAULT_MEASURAND, normalise_sample

SIGNED_DATA = "SignedData"  # 1.6 ValueFormat: the value carries the signed blob (C16 §7.45)
WHOLE_EVSE_LOCATIONS = (None, "Outlet")  # a sample without phase here measures the whole EVSE

# Widths of a sampled value's units as read: 2.x units may be up to 20 characters
# (UnitOfMeasureType.unit); the widths the API has always shown.
_UNIT_MAX = 16
_RAW_UNIT_MAX = 32
# A normalised value this large is garbage (and never fitted the old Numeric(24, 6) column):
# it reads as "not a number", its raw text is kept.
_MAX_VALUE = Decimal(10) ** 18

_FAMILY = "ocpp"
_SAMPLED = "sampledValue"


class Sample(NamedTuple):
    """One sampled value, version-neutral, as the station sent it.

    A NamedTuple, not a frozen dataclass: a frozen dataclass's __init__ (object.__setattr__ per
    field) cost 3× as much to build (T3).
    """

    raw_value: str
    measurand: str
    unit: str | None = None
    multiplier: int = 0  # 2.x UnitOfMeasureType.multiplier: value × 10^multiplier
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    signed_data: str | None = None  # kept byte for byte (OCMF …)
    value_is_signed: bool = False  # 1.6 format SignedData: the value itself is the signed blob


def value_text(value: Any) -> str:
    """A sampled value as text exactly as sent (Q13: some 1.6 stations send numbers)."""
    if type(value) is str:
        return value
    # repr of a float is its shortest round-trip form, so Decimal(text) is what the JSON said.
    return repr(value) if isinstance(value, float) else str(value)


def is_whole_evse(sv: dict[str, Any]) -> bool:
    """True for a sample of the whole EVSE (no phase, outlet or unspecified location)."""
    get = sv.get
    return get("phase") is None and get("location") in WHOLE_EVSE_LOCATIONS


def sample_16(sv: dict[str, Any]) -> Sample:
    """A 1.6 SampledValue (C16 §7.43)."""
    raw = value_text(sv["value"])
    get = sv.get
    signed = get("format") == SIGNED_DATA
    # Positional (Sample's field order): cheaper than keywords on the MeterValues path.
    return Sample(
        raw,
        get("measurand") or DEFAULT_MEASURAND,
        get("unit"),
        0,  # 1.6 has no multiplier
        get("phase"),
        get("location"),
        get("context"),
        raw if signed else None,
        signed,
    )


def sample_2x(sv: dict[str, Any]) -> Sample:
    """A 2.x SampledValueType (P2 2.0.1 §2.51)."""
    unit_of_measure = sv.get("unitOfMeasure") or {}
    signed = sv.get("signedMeterValue")
    return Sample(
        raw_value=value_text(sv["value"]),
        measurand=sv.get("measurand") or DEFAULT_MEASURAND,
        unit=unit_of_measure.get("unit"),
        multiplier=int(unit_of_measure.get("multiplier") or 0),
        phase=sv.get("phase"),
        location=sv.get("location"),
        context=sv.get("context"),
        signed_data=signed["signedMeterData"] if signed else None,
    )


def _in_base_unit(sample: Sample) -> tuple[Decimal | None, str | None]:
    if sample.value_is_signed:
        return None, sample.unit  # the value is the signed blob, not a number
    return normalise_sample(
        sample.measurand, sample.unit, sample.raw_value, multiplier=sample.multiplier
    )


def normalised(sample: Sample) -> Decimal | None:
    """The sample's value in its base SI unit (Wh, W, A …), or None when it is not a number."""
    return _in_base_unit(sample)[0]


def fields(sample: Sample) -> tuple[Any, ...]:
    """The sample as read (models.SAMPLE_FIELDS order): normalised value beside the raw one."""
    value, base_unit = _in_base_unit(sample)
    if value is not None and abs(value) >= _MAX_VALUE:
        value = None
    raw_unit: str | None = sample.unit[:_RAW_UNIT_MAX] if sample.unit else None
    if sample.multiplier:
        raw_unit = f"{sample.unit or ''}*10^{sample.multiplier}"[:_RAW_UNIT_MAX]
    return (
        sample.measurand,
        sample.phase,
        sample.location,
        sample.context,
        value,
        base_unit[:_UNIT_MAX] if base_unit else None,
        sample.raw_value,
        raw_unit,
        sample.signed_data,
    )


def pack(family: str, sampled: list[dict[str, Any]]) -> str:
    """A reading's sampled values for storage, as sent; `family` is '1.6' or '2.x'."""
    return orjson.dumps({_FAMILY: family, _SAMPLED: sampled}, default=str).decode()


def unpack(text: str) -> list[tuple[Any, ...]]:
    """Stored sampled values as SAMPLE_FIELDS tuples, values normalised (Decimal or None)."""
    data = orjson.loads(text)
    if isinstance(data, list):
        # ADR 0014 rows: normalised when written, the value as exact decimal text.
        return [
            (m, p, loc, ctx, Decimal(v) if v is not None else None, *rest)
            for m, p, loc, ctx, v, *rest in data
        ]
    to_sample = sample_16 if data[_FAMILY] == "1.6" else sample_2x
    return [fields(to_sample(sv)) for sv in data[_SAMPLED]]
