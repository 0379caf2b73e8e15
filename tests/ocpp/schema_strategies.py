"""Hypothesis strategies for payloads from an OCPP JSON schema: valid ones, and ones with one
thing wrong. Written for the subset of JSON Schema the OCPP schemas use (draft 04/06: $ref into
definitions, object/array/string/integer/number/boolean, enum, lengths, item counts, bounds,
date-time); independent of ocpp/typed.py, which it is used to test."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

INT64 = (-(2**63), 2**63 - 1)
TIMESTAMPS = st.sampled_from(
    [
        "2026-11-28T10:00:00Z",
        "2026-11-28T10:00:00.123Z",
        "2026-11-28T10:00:00.123456789+01:00",
        "2026-11-28T10:00:00-05:30",
        "2026-11-28T10:00:00",  # Q7: local time without an offset, taken by the validator
    ]
)
BAD_TIMESTAMPS = st.sampled_from(
    ["2026-13-28T10:00:00Z", "2026-02-30T10:00:00Z", "yesterday", "2026-11-28 10:00", ""]
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = definitions[node["$ref"].removeprefix("#/definitions/")]
    return node


def valid(
    node: dict[str, Any], definitions: dict[str, Any], *, custom_data: bool = False
) -> st.SearchStrategy[Any]:
    """Instances the schema accepts (short lists and strings); customData only if asked."""
    node = resolve(node, definitions)
    kind = node.get("type")
    if kind == "object":
        return _object(node, definitions, custom_data)
    if kind == "array":
        low = node.get("minItems", 0)
        return st.lists(
            valid(node["items"], definitions, custom_data=custom_data),
            min_size=low,
            max_size=min(node.get("maxItems", low + 3), low + 3),
        )
    if kind == "string":
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if node.get("format") == "date-time":
            return TIMESTAMPS
        return _TEXT.filter(lambda s: node.get("minLength", 0) <= len(s)).map(
            lambda s: s[: node.get("maxLength", len(s))]
        )
    if kind == "boolean":
        return st.booleans()
    low, high = node.get("minimum"), node.get("maximum")
    whole = st.integers(
        INT64[0] if low is None else int(low), INT64[1] if high is None else int(high)
    )
    if kind == "integer":
        return whole
    return whole | st.floats(low, high, allow_nan=False, allow_infinity=False)


def _object(node: dict[str, Any], definitions: dict[str, Any], custom_data: bool) -> Any:
    required = set(node.get("required", []))
    properties = {
        name: schema
        for name, schema in node.get("properties", {}).items()
        if name != "customData" or custom_data
    }
    return st.fixed_dictionaries(
        {name: valid(properties[name], definitions, custom_data=custom_data) for name in required},
        optional={
            name: valid(schema, definitions, custom_data=custom_data)
            for name, schema in properties.items()
            if name not in required
        },
    )


def containers(value: Any) -> list[Any]:
    """Every object and list inside a value, the value included."""
    found: list[Any] = []
    if isinstance(value, dict):
        found.append(value)
        for inner in value.values():
            found.extend(containers(inner))
    elif isinstance(value, list):
        found.append(value)
        for inner in value:
            found.extend(containers(inner))
    return found


JUNK = (
    st.sampled_from([None, 1, -1, 1.5, 2**63, 2**64, "", "x" * 300, "Energy", [], {}, True, "1"])
    | BAD_TIMESTAMPS
)


def one_thing_wrong(payload: dict[str, Any], data: st.DataObject) -> None:
    """Change one thing in place: remove a property or an item, set one to junk, add an unknown
    property, or empty a list (any of which the schema may or may not refuse)."""
    target = data.draw(st.sampled_from(containers(payload)))
    if isinstance(target, list):
        if target and data.draw(st.booleans()):
            target[data.draw(st.integers(0, len(target) - 1))] = data.draw(JUNK)
        else:
            target.clear()
        return
    action = data.draw(st.sampled_from(["remove", "junk", "unknown"] if target else ["unknown"]))
    if action == "unknown":
        target[data.draw(st.sampled_from(["extra", "customData", "value", "id"]))] = data.draw(
            JUNK | st.just({"vendorId": "v"})
        )
        return
    name = data.draw(st.sampled_from(sorted(target)))
    if action == "remove":
        del target[name]
    else:
        target[name] = data.draw(JUNK)
