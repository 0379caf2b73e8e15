"""The typed decoder of 2.0.1 and 2.1 TransactionEvent frames (ADR 0021): it takes only frames
the strict validator takes, reads exactly what orjson reads, takes every plain valid frame, and
leaves everything else (customData, quirks, errors) to the ordinary path."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ocpp import schema_strategies as schema_st

from joule.ocpp import typed
from joule.ocpp.errors import OcppError
from joule.ocpp.frames import Call, decode_frame
from joule.ocpp.inbound import accept_request
from joule.ocpp.quirks import normalise_request
from joule.ocpp.schemas import load_schema
from joule.ocpp.typed import typed_call
from joule.ocpp.validation import _cost_samples, _validator
from joule.ocpp.versions import OcppVersion

VERSIONS = (OcppVersion.V201, OcppVersion.V21)
ACTION = "TransactionEvent"


def _schema(version: OcppVersion) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = load_schema(version, ACTION, "request")
    return schema, schema.get("definitions", {})


def _payloads(version: OcppVersion, *, custom_data: bool = False) -> st.SearchStrategy[Any]:
    schema, definitions = _schema(version)
    return schema_st.valid(schema, definitions, custom_data=custom_data)


def _frame(payload: Any, message_id: Any = "m-1") -> str | None:
    try:
        return orjson.dumps([2, message_id, ACTION, payload]).decode()
    except TypeError:  # an integer orjson cannot write: no frame to decode
        return None


def _strictly_valid(version: OcppVersion, payload: Any) -> bool:
    try:
        _validator(version, ACTION, "request")(copy.deepcopy(payload))
    except Exception:
        return False
    return True


def _plain(value: Any) -> bool:
    """Integers within 64 bits (beyond, orjson reads a float) and no customData anywhere."""
    if isinstance(value, dict):
        return "customData" not in value and all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return schema_st.INT64[0] <= value <= schema_st.INT64[1]
    return True


def _check_taken_only_if_valid(version: OcppVersion, payload: Any) -> None:
    text = _frame(payload)
    if text is None:
        return
    sent = orjson.loads(text)[3]
    typed = typed_call(version, text)
    if typed is None:
        return
    assert typed == ("m-1", ACTION, sent)
    assert _strictly_valid(version, sent), sent
    # ... and no quirk repair would have changed it (every repair fixes what the schema refuses).
    assert normalise_request(version, ACTION, sent) == (sent, [])


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_plain_valid_frame_is_taken_as_orjson_reads_it(
    version: OcppVersion, data: st.DataObject
) -> None:
    payload = data.draw(_payloads(version))
    assert _strictly_valid(version, payload)  # the strategy makes valid payloads
    text = _frame(payload)
    if text is None or not _plain(payload):
        return
    assert typed_call(version, text) == ("m-1", ACTION, orjson.loads(text)[3])
    _check_taken_only_if_valid(version, payload)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_frame_with_one_thing_wrong_is_taken_only_if_still_valid(
    version: OcppVersion, data: st.DataObject
) -> None:
    payload = data.draw(_payloads(version, custom_data=data.draw(st.booleans())))
    schema_st.one_thing_wrong(payload, data)
    _check_taken_only_if_valid(version, payload)
    text = _frame(payload)
    if text is not None and _plain(payload) and not _strictly_valid(version, payload):
        assert typed_call(version, text) is None


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_custom_data_goes_the_ordinary_way_and_is_kept(
    version: OcppVersion, data: st.DataObject
) -> None:
    # The schemas leave customData open to any property: a struct cannot say as much, so a frame
    # with it is not taken here and the ordinary path keeps every property of it.
    payload = data.draw(_payloads(version))
    payload["customData"] = {"vendorId": "com.example", "anything": [1, {"x": None}]}
    text = _frame(payload)
    if text is None:
        return
    assert typed_call(version, text) is None
    frame = decode_frame(version, text)
    assert isinstance(frame, Call) and not frame.validated
    request = accept_request(version, frame)
    assert request.payload["customData"] == payload["customData"] and not request.repaired


def _bench_frame(version: OcppVersion) -> tuple[str, dict[str, Any]]:
    _, action, payload = _cost_samples()["2.0.1 TransactionEvent (10 samples)"]
    assert action == ACTION
    return orjson.dumps([2, "m-1", ACTION, payload]).decode(), payload


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_the_bench_frame_is_decoded_typed_and_dispatched_as_sent(version: OcppVersion) -> None:
    text, payload = _bench_frame(version)
    frame = decode_frame(version, text)
    assert isinstance(frame, Call) and frame.validated
    assert frame == Call("m-1", ACTION, payload)
    request = accept_request(version, frame)
    assert request.payload is frame.payload and not request.repaired
    assert typed_call(version, text.encode()) == typed_call(version, text) is not None


def _with(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


SAMPLE = ("meterValue", 0, "sampledValue", 0)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@pytest.mark.parametrize(
    ("path", "value", "ordinary"),
    [
        (("meterValue", 0, "timestamp"), "2026-11-28 10:00", "refused"),
        (("meterValue", 0, "timestamp"), "2026-02-30T10:00:00Z", "refused"),
        (("timestamp",), "not a time", "refused"),
        (("seqNo",), "7", "refused"),
        (("evse", "id"), "1", "refused"),
        (("eventType",), "updated", "refused"),
        (("transactionInfo", "transactionId"), "x" * 37, "refused"),
        (("seqNo",), 2**63, "taken"),  # beyond 64 bits: orjson's reading decides
        (("seqNo",), 7.0, "taken"),  # an integer to the validator, a float to a struct
        (("unknownProperty",), 1, "repaired"),  # stripped: transaction messages never refused
        ((*SAMPLE, "value"), "1000.5", "repaired"),  # string_value: a number sent as text
        (("meterValue", 0, "sampledValue"), [], "repaired"),  # Q14: acked, nothing stored
        (("meterValue",), [], "repaired"),  # minItems 1: left out (Q14), the event counts
    ],
)
def test_every_other_frame_goes_the_ordinary_way(
    version: OcppVersion, path: tuple[Any, ...], value: Any, ordinary: str
) -> None:
    _, payload = _bench_frame(version)
    text = orjson.dumps([2, "m-1", ACTION, _with(payload, path, value)]).decode()
    assert typed_call(version, text) is None
    frame = decode_frame(version, text)
    assert isinstance(frame, Call) and not frame.validated
    if ordinary == "refused":
        with pytest.raises(OcppError):
            accept_request(version, frame)
    else:
        assert accept_request(version, frame).repaired == (ordinary == "repaired")


def test_2_1_properties_are_not_taken_on_a_2_0_1_connection() -> None:
    text, payload = _bench_frame(OcppVersion.V201)
    later = orjson.dumps([2, "m-1", ACTION, {**payload, "evseSleep": True}]).decode()
    assert typed_call(OcppVersion.V21, later) is not None
    assert typed_call(OcppVersion.V201, later) is None
    assert typed_call(OcppVersion.V16, text) is None


def test_duplicate_keys_read_as_orjson_reads_them() -> None:
    text, _ = _bench_frame(OcppVersion.V201)
    doubled = text.replace('"seqNo":7', '"seqNo":7,"seqNo":8')
    assert doubled != text
    typed = typed_call(OcppVersion.V201, doubled)
    assert typed is not None and typed[2] == orjson.loads(doubled)[3]


@pytest.mark.parametrize(
    ("path", "value"),
    [(("seqNo",), -1), (("numberOfPhasesUsed",), 4), (("evse", "id"), -1), (("evse", "id"), 0.5)],
)
def test_2_1_bounds_are_kept(path: tuple[Any, ...], value: Any) -> None:
    # 2.1 bounds integers its 2.0.1 schema leaves open (seqNo ≥ 0, numberOfPhasesUsed ≤ 3, ...).
    _, payload = _bench_frame(OcppVersion.V21)
    text = orjson.dumps([2, "m-1", ACTION, _with(payload, path, value)]).decode()
    assert typed_call(OcppVersion.V21, text) is None
    with pytest.raises(OcppError):
        accept_request(OcppVersion.V21, decode_frame(OcppVersion.V21, text))  # type: ignore[arg-type]
    taken_by_2_0_1 = path != ("evse", "id") or value != 0.5
    assert (typed_call(OcppVersion.V201, text) is not None) == taken_by_2_0_1


def _decode(schema: dict[str, Any], payload: Any) -> Any:
    """A payload through structs built from a schema (the builder typed.py uses), or None."""
    kind, check = typed._Builder(schema.get("definitions", {})).node(schema, "Test")
    try:
        value = msgspec.json.decode(orjson.dumps(payload), type=kind)
    except msgspec.ValidationError:
        return None
    if check is not None and not check(value):
        return None
    return msgspec.to_builtins(value)


def test_the_builder_on_constructs_the_shipped_messages_do_not_use() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["class"],
        "properties": {
            "class": {"type": "string", "maxLength": 3},  # a Python keyword: renamed inside
            "my-level": {"type": "number", "minimum": 0.5, "maximum": 2.5},
            "link": {"type": "string", "format": "uri"},  # not encoded: left out
            "open": {"type": "object", "properties": {}},  # open to anything: left out
            "when": {"$ref": "#/definitions/When"},
        },
        "definitions": {"When": {"type": "string", "format": "date-time"}},
    }
    assert _decode(schema, {"class": "A", "my-level": 2}) == {"class": "A", "my-level": 2}
    assert _decode(schema, {"class": "A", "my-level": 0.5}) == {"class": "A", "my-level": 0.5}
    for refused in (
        {"class": "ABCD"},
        {"class": "A", "my-level": 0.4},
        {"class": "A", "my-level": 3},
        {"class": "A", "link": "https://example.com"},  # valid, but left to the ordinary path
        {"class": "A", "open": {}},
        {"class": "A", "when": "not a time"},
        {"my-level": 1},
    ):
        assert _decode(schema, refused) is None, refused
    assert _decode(schema, {"class": "A", "when": "2026-11-28T10:00:00Z"}) is not None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "integer"}}},  # open: no struct says it
        {"type": ["object", "null"]},
        {"type": "object", "additionalProperties": False, "required": ["a"], "properties": {}},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["a"],
            "properties": {"a": {"type": "string", "pattern": "^x"}},
        },
        {"$ref": "#/definitions/Missing", "definitions": {}},
    ],
)
def test_a_message_outside_the_subset_is_never_typed(schema: dict[str, Any]) -> None:
    with pytest.raises(typed._Untypable):
        typed._Builder(schema.get("definitions", {})).node(schema, "Test")


def test_a_version_whose_message_is_untypable_goes_the_ordinary_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, _ = _bench_frame(OcppVersion.V201)
    monkeypatch.setattr(typed, "_prepared", {})
    monkeypatch.setattr(typed, "_untypable", set())
    monkeypatch.setattr(typed, "load_schema", lambda *_: {"type": ["object"]})
    assert typed_call(OcppVersion.V201, text) is None
    assert typed._untypable == {OcppVersion.V201}
    frame = decode_frame(OcppVersion.V201, text)
    assert isinstance(frame, Call) and not frame.validated
