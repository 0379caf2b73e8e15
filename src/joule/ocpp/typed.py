"""Typed decoding of the hottest frames: a CALL parsed and validated in one step (ADR 0020, 0021).

orjson then the fast acceptor (fast_accept.py) cost ~9 µs for the 10-sample 1.6 MeterValues of
T3, and orjson then the compiled validator ~25 µs for a 10-sample 2.x TransactionEvent (T9).
msgspec parses the whole frame straight into structs that encode the strict schema (every
property known, exact types, enum values, lengths, item counts, bounds) and turns them into the
same dict. The structs are built from the official schema itself (`_Builder`), for the subset of
JSON Schema the OCPP schemas use; a construct outside it is not guessed at: the property is left
out of the struct, so a frame that carries it goes the ordinary way (`customData`, whose contents
the 2.x schemas leave open, is the one such property of these messages).

The contract is fast_accept's: only a frame that is certainly valid as sent is decoded here;
anything else (a quirk, an error, an unusual but valid shape) returns None and the ordinary path
(orjson, quirk repair, the full validator) decides and words the answer. So this path can never
accept what the schema refuses, and it gives exactly the payload orjson would
(tests/ocpp/test_typed.py checks both against the validator and orjson on generated frames).
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec

from joule.ocpp.schemas import load_schema
from joule.ocpp.timestamps import is_timestamp
from joule.ocpp.versions import OcppVersion

# The CALLs decoded here, per version: the frames stations send most, with meter readings.
TYPED_ACTIONS: dict[OcppVersion, str] = {
    OcppVersion.V16: "MeterValues",
    OcppVersion.V201: "TransactionEvent",
    OcppVersion.V21: "TransactionEvent",
}
# `[2, "<id ≤ 36>", "<action>"`: the action is near the start or this is not our frame.
_NEEDLE_WITHIN = 96

# Integers beyond 64 bits read as floats with orjson; leave them to the ordinary path, which
# decides on what orjson read (so both paths agree on every payload they take).
_INT64 = (-(2**63), 2**63 - 1)
_MessageId = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]  # J16 §4.1.4

Check = Callable[[Any], bool]

# Keywords that say nothing about validity (annotations), as the OCPP schemas use them.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "id", "title", "description", "comment", "$comment", "javaType", "default"}
    | {"definitions"}  # the root's store of `$ref` targets, not a constraint itself
)
_KEYWORDS = {
    "object": frozenset({"type", "properties", "required", "additionalProperties"}),
    "array": frozenset({"type", "items", "minItems", "maxItems", "additionalItems"}),
    "string": frozenset(
        {"type", "enum", "maxLength", "minLength", "format", "additionalProperties"}
    ),
    "integer": frozenset({"type", "minimum", "maximum", "additionalProperties"}),
    "number": frozenset({"type", "minimum", "maximum", "additionalProperties"}),
    "boolean": frozenset({"type", "additionalProperties"}),
}


class _Untypable(Exception):
    """A schema node outside the subset encoded here: its property goes the ordinary way."""


class _Builder:
    """msgspec types (and the checks msgspec cannot express) for one schema's nodes."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self._definitions = definitions
        self._structs = 0

    def node(self, node: Any, name: str) -> tuple[Any, Check | None]:
        if not isinstance(node, dict):
            raise _Untypable(name)
        ref = node.get("$ref")
        if isinstance(ref, str):
            # Drafts 04/06: a `$ref`'s siblings are ignored; the OCPP schemas use local ones only.
            target = ref.removeprefix("#/definitions/")
            if target == ref or target not in self._definitions:
                raise _Untypable(ref)
            return self.node(self._definitions[target], target)
        kind = node.get("type")
        allowed = _KEYWORDS.get(kind) if isinstance(kind, str) else None
        if allowed is None or not set(node) <= allowed | _ANNOTATIONS:
            raise _Untypable(name)  # a type list, no type, or a keyword not encoded here
        if kind == "object":
            return self._object(node, name)
        if kind == "array":
            return self._array(node, name)
        if kind == "string":
            return self._string(node)
        if kind == "boolean":
            return bool, None
        return self._number(node, integer=kind == "integer"), None

    def _object(self, node: dict[str, Any], name: str) -> tuple[Any, Check | None]:
        if node.get("additionalProperties") is not False:
            raise _Untypable(name)  # open to any property: a struct cannot say the same
        required = node.get("required", [])
        properties = node.get("properties", {})
        if not set(required) <= properties.keys():
            raise _Untypable(name)  # a required property the schema does not describe
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        checks: list[tuple[str, Check]] = []
        required_attrs: set[str] = set()
        for index, (prop, schema) in enumerate(properties.items()):
            try:
                kind, check = self.node(schema, prop)
            except _Untypable:
                if prop in required:
                    raise
                continue  # left out: a frame that has it is refused here (unknown field)
            attr = prop if prop.isidentifier() and not keyword.iskeyword(prop) else f"f{index}"
            if attr != prop:
                rename[attr] = prop
            if prop in required:
                fields.append((attr, kind))
                required_attrs.add(attr)
            else:
                fields.append((attr, kind | msgspec.UnsetType, msgspec.UNSET))
            if check is not None:
                checks.append((attr, check))
        self._structs += 1
        struct = msgspec.defstruct(
            f"{name}_{self._structs}",
            fields,
            kw_only=True,
            forbid_unknown_fields=True,
            rename=rename or None,
        )
        if not checks:
            return struct, None
        return struct, _struct_check(tuple(checks), required_attrs)

    def _array(self, node: dict[str, Any], name: str) -> tuple[Any, Check | None]:
        items = node.get("items")
        if not isinstance(items, dict):
            raise _Untypable(name)  # a tuple form (where additionalItems would count)
        kind, check = self.node(items, name)
        meta = msgspec.Meta(min_length=node.get("minItems"), max_length=node.get("maxItems"))
        listed = Annotated[list[kind], meta]  # type: ignore[valid-type]
        return listed, None if check is None else _every(check)

    @staticmethod
    def _string(node: dict[str, Any]) -> tuple[Any, Check | None]:
        values = node.get("enum")
        if values is None:
            kind: Any = Annotated[
                str,
                msgspec.Meta(min_length=node.get("minLength"), max_length=node.get("maxLength")),
            ]
        elif (
            isinstance(values, list)
            and values
            and all(type(value) is str for value in values)
            and "minLength" not in node
            and "maxLength" not in node
        ):
            kind = Literal[tuple(values)]
        else:
            raise _Untypable("enum")  # not as the OCPP schemas write one: not encoded
        fmt = node.get("format")
        if fmt is None:
            return kind, None
        if fmt != "date-time":
            raise _Untypable(str(fmt))
        # Q7: what the ordinary path's validator takes for a date-time (validation._FORMATS).
        return kind, is_timestamp

    @staticmethod
    def _number(node: dict[str, Any], *, integer: bool) -> Any:
        low, high = node.get("minimum"), node.get("maximum")
        int_low = _INT64[0] if low is None else max(_INT64[0], math.ceil(low))
        int_high = _INT64[1] if high is None else min(_INT64[1], math.floor(high))
        whole = Annotated[int, msgspec.Meta(ge=int_low, le=int_high)]
        if integer:
            return whole
        # JSON's number: orjson reads `5` as an int and `5.0` as a float, and so does msgspec.
        return whole | Annotated[float, msgspec.Meta(ge=low, le=high)]


# The checks run on every decoded frame (a 10-sample MeterValues: once per reading), so the
# common shapes get a function of their own rather than a generic walk (T3: ~0.5 µs a frame).
_ONE_REQUIRED: dict[Check, tuple[str, Check]] = {}


def _struct_check(checks: tuple[tuple[str, Check], ...], required: set[str]) -> Check:
    if len(checks) == 1 and checks[0][0] in required:
        attr, inner = checks[0]

        def one(value: Any) -> bool:
            return inner(getattr(value, attr))

        _ONE_REQUIRED[one] = (attr, inner)
        return one

    def check(value: Any) -> bool:
        for attr, inner in checks:
            found = getattr(value, attr)
            if found is not msgspec.UNSET and not inner(found):
                return False
        return True

    return check


def _every(check: Check) -> Check:
    # Plain loops: all() over a generator or map costs more than the check itself for the
    # one or two readings of a frame (0.2 µs a frame, measured).
    fused = _ONE_REQUIRED.get(check)
    if fused is not None:
        attr, inner = fused

        def every_one(values: list[Any]) -> bool:
            for value in values:  # noqa: SIM110 (see above)
                if not inner(getattr(value, attr)):
                    return False
            return True

        return every_one

    def every(values: list[Any]) -> bool:
        for value in values:  # noqa: SIM110 (see above)
            if not check(value):
                return False
        return True

    return every


_Prepared = tuple[str, bytes, "msgspec.json.Decoder[Any]", Check | None]
_prepared: dict[OcppVersion, _Prepared] = {}
_untypable: set[OcppVersion] = set()


def _prepare(version: OcppVersion) -> _Prepared | None:
    """The action's needles, the frame's decoder and its extra check; built once per version.
    None if the schema's message itself is outside the subset encoded here (never so for the
    schemas we ship: tests build every one): its frames then all go the ordinary way."""
    action = TYPED_ACTIONS[version]
    schema = load_schema(version, action, "request")
    builder = _Builder(schema.get("definitions", {}))
    try:
        request, check = builder.node(schema, f"{action}Request")
    except (_Untypable, RecursionError):
        _untypable.add(version)
        return None
    frame = tuple[Literal[2], _MessageId, Literal[action], request]  # type: ignore[valid-type]
    needle = f'"{action}"'
    prepared = _prepared[version] = (needle, needle.encode(), msgspec.json.Decoder(frame), check)
    return prepared


def typed_call(version: OcppVersion, text: str | bytes) -> tuple[str, str, dict[str, Any]] | None:
    """(messageId, action, payload) of a CALL of TYPED_ACTIONS certainly valid as sent, or None."""
    prepared = _prepared.get(version)
    if prepared is None:
        if version not in TYPED_ACTIONS or version in _untypable:
            return None
        prepared = _prepare(version)
        if prepared is None:
            return None
    needle, needle_bytes, decoder, check = prepared
    found = (
        text.find(needle, 0, _NEEDLE_WITHIN)
        if isinstance(text, str)
        else text.find(needle_bytes, 0, _NEEDLE_WITHIN)
    )
    if found < 0:
        return None
    try:
        _, message_id, action, request = decoder.decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if check is not None and not check(request):
        return None
    payload: dict[str, Any] = msgspec.to_builtins(request)
    return message_id, action, payload
