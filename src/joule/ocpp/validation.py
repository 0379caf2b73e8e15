"""Payload validation against the official OCPP JSON schemas, compiled once per message.

`fastjsonschema` turns each schema into Python code on first use (or at `warm_up`), which keeps a
10-sample MeterValues well under the 50 µs budget of performance.md T9; the `jsonschema` validator
the `ocpp` package uses costs 0.4–1 ms per message.

Errors map to CALLERROR codes per rule (P4 §4.3, J16 Table 7, scenario 23):
required → OccurrenceConstraintViolation; type, maxLength, minLength → TypeConstraintViolation;
enum, minimum/maximum, minItems/maxItems, pattern, format, … → PropertyConstraintViolation;
additionalProperties → FormatViolation (1.6 FormationViolation). errorDetails carries
`{"path": "data.meterValue[0]....", "rule": "..."}`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

import fastjsonschema
import orjson

from joule.ocpp.catalogue import ALL_ACTIONS
from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.fast_accept import ACCEPTORS
from joule.ocpp.quirks import EMPTY_SAMPLED_VALUE
from joule.ocpp.schemas import MessageKind, load_schema, schema_files
from joule.ocpp.timestamps import is_timestamp
from joule.ocpp.typed import TYPED_ACTIONS, typed_call
from joule.ocpp.versions import OcppVersion

Validator = Callable[[Any], Any]

# Q7: chargers send local time without an offset; the schemas' date-time format would reject it.
# Accept what parse_timestamp can read (offset optional, any number of fraction digits) so the
# domain can interpret it with the station's time zone instead of losing the message.
_FORMATS: dict[str, Callable[[Any], bool]] = {"date-time": is_timestamp}

_RULE_KIND: dict[str, ErrorKind] = {
    "required": ErrorKind.OCCURRENCE,
    "type": ErrorKind.TYPE,
    "maxLength": ErrorKind.TYPE,
    "minLength": ErrorKind.TYPE,
    "additionalProperties": ErrorKind.FORMAT,
}  # every other rule (enum, minimum, maxItems, pattern, format, ...) is a value constraint

# Q14 (scenario 40): the `empty_sampled_value` quirk may leave these lists empty; the domain acks
# such a message and stores nothing rather than provoke a retry storm with a CALLERROR.
_METER_VALUE_LISTS: dict[str, str] = {"MeterValues": "meterValue"}

_validators: dict[tuple[OcppVersion, str, MessageKind, bool], Validator] = {}
# Schemas that accept the empty object, learnt from their validators (validate).
_EMPTY_VALID: dict[tuple[OcppVersion, str, MessageKind], bool] = {}


def _inline_refs(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of a schema node with every local `$ref` replaced by its definition.

    The generated code then runs without a function call per referenced type, which takes a
    10-sample 2.0.1 TransactionEvent from ~48 to ~31 µs. The OCPP schemas only use bare local
    references (siblings of `$ref` are ignored in drafts 04/06 anyway); a recursive one would be
    left in place.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref[len("#/definitions/") :]
            if name in definitions and name not in seen:
                return _inline_refs(definitions[name], definitions, (*seen, name))
            return dict(node)
        return {k: _inline_refs(v, definitions, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, definitions, seen) for item in node]
    return node


def _compilable(schema: dict[str, Any], relax: str | None) -> dict[str, Any]:
    definitions = schema.get("definitions", {})
    inlined: dict[str, Any] = _inline_refs(schema, definitions)
    if not _has_ref({k: v for k, v in inlined.items() if k != "definitions"}):
        inlined.pop("definitions", None)
    if relax is not None:
        inlined["properties"][relax].pop("minItems", None)
    _sharpen(inlined)
    return inlined


# A string enum compiles to a chain of `isinstance(x, str) and x == 'A' or …` — 25 comparisons
# for a 2.0.1 measurand, per sampled value (T9). As a named format it becomes one set lookup.
# The name is mapped back to rule "enum" and the usual message in _error.
_ENUM_PREFIX = "joule-enum-"
_ENUM_FORMATS: dict[str, Callable[[Any], bool]] = {}
_ENUM_VALUES: dict[str, list[str]] = {}
_ENUM_NAMES: dict[tuple[str, ...], str] = {}


def _enum_format(values: list[str]) -> str:
    key = tuple(values)
    name = _ENUM_NAMES.get(key)
    if name is None:
        name = _ENUM_NAMES[key] = f"{_ENUM_PREFIX}{len(_ENUM_NAMES)}"
        _ENUM_VALUES[name] = list(values)
        _ENUM_FORMATS[name] = frozenset(values).__contains__
    return name


def _sharpen(node: Any) -> None:
    """Rewrite a schema in place into an equivalent that compiles to cheaper code.

    - a string-typed `enum` becomes a set-lookup format (above);
    - `additionalProperties` on a non-object node is dropped: it constrains objects only, and the
      OCPP schemas put it on every enum, where it compiles to a dead `isinstance(x, dict)` branch.
    """
    if isinstance(node, list):
        for item in node:
            _sharpen(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind is not None and kind != "object":
        node.pop("additionalProperties", None)
    values = node.get("enum")
    if (
        kind == "string"
        and "format" not in node
        and isinstance(values, list)
        and values
        and all(isinstance(value, str) for value in values)
    ):
        del node["enum"]
        node["format"] = _enum_format(values)
    for key, value in node.items():
        if key not in ("enum", "const", "default", "examples"):
            _sharpen(value)


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_ref(item) for item in node)
    return False


def _validator(
    version: OcppVersion, action: str, kind: MessageKind, relaxed: bool = False
) -> Validator:
    key = (version, action, kind, relaxed)
    found = _validators.get(key)
    if found is not None:
        return found
    try:
        schema = load_schema(version, action, kind)
    except KeyError:
        raise OcppError(
            ErrorKind.NOT_SUPPORTED if action in ALL_ACTIONS else ErrorKind.NOT_IMPLEMENTED,
            f"no OCPP {version.value} {kind} schema for {action[:64]!r}",
        ) from None
    relax = _METER_VALUE_LISTS[action] if relaxed else None
    compilable = _compilable(schema, relax)
    compiled: Validator = fastjsonschema.compile(
        compilable, use_default=False, formats={**_FORMATS, **_ENUM_FORMATS}
    )
    _validators[key] = compiled
    return compiled


def _error(exc: fastjsonschema.JsonSchemaValueException) -> OcppError:
    rule = exc.rule or ""
    path = exc.name or "data"
    value = exc.value
    message = exc.message
    if rule == "format" and str(exc.rule_definition).startswith(_ENUM_PREFIX):
        rule = "enum"  # a string enum compiled as a set lookup (_sharpen)
        message = f"{path} must be one of {_ENUM_VALUES[str(exc.rule_definition)]}"
    if rule == "required" and isinstance(value, dict) and isinstance(exc.rule_definition, list):
        missing = [name for name in exc.rule_definition if name not in value]
        if missing:
            path = f"{path}.{missing[0]}"
    elif rule == "additionalProperties" and isinstance(value, dict):
        extra = _extra_properties(value, exc.definition)
        if extra:
            path = f"{path}.{extra[0]}"
    kind = _RULE_KIND.get(rule, ErrorKind.PROPERTY)
    return OcppError(kind, message, {"path": path, "rule": rule})


def _extra_properties(value: dict[str, Any], definition: object) -> list[str]:
    known = definition.get("properties", {}) if isinstance(definition, dict) else {}
    return [name for name in value if name not in known]


def validate(
    version: OcppVersion,
    action: str,
    kind: MessageKind,
    payload: dict[str, Any],
    *,
    lenient: bool = False,
    quirks: Collection[str] = (),
) -> list[str]:
    """Validate an inbound payload; raise OcppError, or return the paths stripped when lenient.

    Lenient mode (scenario 27, per station) deletes properties the schema does not know, at any
    depth and in place, instead of answering FormatViolation. `customData` is never stripped: the
    2.x schemas declare it everywhere and leave its contents open (P4 §9). `quirks` are the names
    normalise_request applied; `empty_sampled_value` accepts a meter-value list it emptied (Q14).
    """
    if type(payload) is dict and not payload and _EMPTY_VALID.get((version, action, kind)):
        # `{}` (a Heartbeat, most answers to a station): valid or not by the schema alone, and
        # this schema's validator already said valid once.
        return []
    relaxed = EMPTY_SAMPLED_VALUE in quirks and kind == "request" and action in _METER_VALUE_LISTS
    fast = ACCEPTORS.get((version.family, action, kind))
    if fast is not None and fast(payload):
        return []  # certainly valid (fast_accept.py); anything else gets the full validator
    check = _validator(version, action, kind, relaxed)
    stripped: list[str] = []
    while True:
        try:
            check(payload)
            if not payload and type(payload) is dict:
                _EMPTY_VALID[(version, action, kind)] = True
            return stripped
        except fastjsonschema.JsonSchemaValueException as exc:
            value = exc.value
            if not (lenient and exc.rule == "additionalProperties" and isinstance(value, dict)):
                raise _error(exc) from None
            extra = _extra_properties(value, exc.definition)
            if not extra:
                raise _error(exc) from None
            # Each pass removes at least one property, so the loop ends.
            for name in extra:
                del value[name]
                stripped.append(f"{exc.name or 'data'}.{name}")


def validate_outbound(
    version: OcppVersion, action: str, kind: MessageKind, payload: dict[str, Any]
) -> None:
    """Validate a payload Joule is about to send: always strict, raise OcppError if invalid."""
    validate(version, action, kind, payload)


def warm_up(version: OcppVersion) -> int:
    """Compile every schema of a version now (server start); return how many were compiled."""
    for action, kind in schema_files(version):
        _validator(version, action, kind)
    return len(schema_files(version))


def _sampled_values(count: int, *, as_number: bool) -> list[dict[str, Any]]:
    measurands = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import")
    values: list[dict[str, Any]] = []
    for i in range(count):
        value: Any = 1000.5 + i if as_number else f"{1000.5 + i}"
        sample: dict[str, Any] = {
            "value": value,
            "context": "Sample.Periodic",
            "measurand": measurands[i % 3],
            "location": "Outlet",
        }
        if as_number:
            sample["unitOfMeasure"] = {"unit": "Wh", "multiplier": 0}
            sample["phase"] = "L1"
        else:
            sample["unit"] = "Wh"
            sample["phase"] = "L1"
            sample["format"] = "Raw"
        values.append(sample)
    return values


def _cost_samples() -> dict[str, tuple[OcppVersion, str, dict[str, Any]]]:
    at = "2025-03-01T12:00:00.000Z"
    return {
        "1.6 Heartbeat": (OcppVersion.V16, "Heartbeat", {}),
        "1.6 MeterValues (10 samples)": (
            OcppVersion.V16,
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 42,
                "meterValue": [
                    {"timestamp": at, "sampledValue": _sampled_values(10, as_number=False)}
                ],
            },
        ),
        "2.0.1 TransactionEvent (10 samples)": (
            OcppVersion.V201,
            "TransactionEvent",
            {
                "eventType": "Updated",
                "timestamp": at,
                "triggerReason": "MeterValuePeriodic",
                "seqNo": 7,
                "transactionInfo": {"transactionId": "tx-42", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [
                    {"timestamp": at, "sampledValue": _sampled_values(10, as_number=True)}
                ],
            },
        ),
    }


def measure_cost(iterations: int = 20_000) -> dict[str, float]:
    """CPU µs per validation (process_time over many runs) for the T9 benchmark messages, as
    Joule validates a station's request (`validate`: the fast acceptor where there is one), and,
    for the actions the gateway decodes typed (ADR 0020, 0021), the typed decode of the whole
    frame: what a valid frame as sent costs, its parsing included."""
    results: dict[str, float] = {}
    for label, (version, action, payload) in _cost_samples().items():
        validate(version, action, "request", payload)  # compile and check once, untimed
        results[label] = _per_call_us(iterations, validate, version, action, "request", payload)
        if TYPED_ACTIONS.get(version) == action:
            frame = orjson.dumps([2, "m-1", action, payload])
            if typed_call(version, frame) is None:  # compile once, untimed; and it must take it
                raise AssertionError(f"the typed decoder refused the T9 sample {label!r}")
            results[f"{label}, typed frame decode"] = _per_call_us(
                iterations, typed_call, version, frame
            )
    return results


def _per_call_us(iterations: int, function: Callable[..., Any], *args: Any) -> float:
    started = time.process_time()
    for _ in range(iterations):
        function(*args)
    return (time.process_time() - started) / iterations * 1e6
