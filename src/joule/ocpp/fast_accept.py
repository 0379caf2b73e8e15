"""Fast acceptors for the commonest shapes of the hottest messages: 1.6 MeterValues requests
and the Heartbeat answer.

fastjsonschema's code for a 10-sample 1.6 MeterValues costs ~15 µs, most of it per-sample
bookkeeping (key sets, error paths) that a valid frame never needs (T3). `accepts` answers only
"certainly valid": every property known, every type exact, every enum value listed, each
timestamp a date-time. Anything else (an error, a quirk, an unusual but valid shape such as a
float connectorId) returns False and the full validator decides and words the error, so the
fast path can never accept what the schema refuses (tests/ocpp/test_fast_accept.py checks it
against the compiled schema on generated payloads). Enum sets are read from the schema itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from joule.ocpp.schemas import load_schema
from joule.ocpp.timestamps import is_timestamp
from joule.ocpp.versions import OcppVersion

Acceptor = Callable[[dict[str, Any]], bool]


@cache
def sample_enums_16() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    schema = load_schema(OcppVersion.V16, "MeterValues", "request")
    sample = schema["properties"]["meterValue"]["items"]["properties"]["sampledValue"]["items"]
    enums = {
        name: frozenset(node["enum"])
        for name, node in sample["properties"].items()
        if node.get("type") == "string" and "enum" in node
    }
    # Only `value` is free text; the acceptor knows nothing else about a sample.
    assert set(sample["properties"]) == {"value", *enums}, "1.6 sampledValue changed shape"
    assert sample["required"] == ["value"] and sample["additionalProperties"] is False
    return frozenset(sample["properties"]), enums


_TOP_16 = frozenset(("connectorId", "transactionId", "meterValue"))
_READING_16 = frozenset(("timestamp", "sampledValue"))


def _meter_values_16(payload: dict[str, Any]) -> bool:
    _, enums = sample_enums_16()
    if not _TOP_16.issuperset(payload) or type(payload.get("connectorId")) is not int:
        return False
    if "transactionId" in payload and type(payload["transactionId"]) is not int:
        return False
    readings = payload.get("meterValue")
    if type(readings) is not list or not readings:
        return False
    for reading in readings:
        if type(reading) is not dict or not _READING_16.issuperset(reading):
            return False
        timestamp, samples = reading.get("timestamp"), reading.get("sampledValue")
        if type(timestamp) is not str or not is_timestamp(timestamp):
            return False
        if type(samples) is not list or not samples:
            return False
        for sample in samples:
            if type(sample) is not dict or type(sample.get("value")) is not str:
                return False
            try:
                # An unknown property is a KeyError, an unhashable value a TypeError; a value of
                # any other type is simply not in the set of the enum's strings.
                for name, value in sample.items():
                    if name != "value" and value not in enums[name]:
                        return False
            except (KeyError, TypeError):
                return False
    return True


def _heartbeat_response(payload: dict[str, Any]) -> bool:
    """Joule's own Heartbeat answer, `{"currentTime": <date-time>}` (T2: every Heartbeat)."""
    if len(payload) != 1:
        return False
    current = payload.get("currentTime")
    return type(current) is str and is_timestamp(current)


# (version family, action, kind) → acceptor; the family's strict schemas only.
ACCEPTORS: dict[tuple[str, str, str], Acceptor] = {
    ("1.6", "MeterValues", "request"): _meter_values_16,
    ("1.6", "Heartbeat", "response"): _heartbeat_response,
    ("2.x", "Heartbeat", "response"): _heartbeat_response,
}
