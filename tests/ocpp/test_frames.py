"""OCPP-J frames: decode what stations send, encode what we answer (scenarios 18, 19, 20, 29)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from joule.ocpp.errors import ErrorKind
from joule.ocpp.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    FrameError,
    IgnoredFrame,
    Send,
    decode_frame,
    encode_call,
    encode_error,
    encode_error_for,
    encode_result,
    encode_result_error,
    encode_send,
)
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ALL = pytest.mark.parametrize("version", list(OcppVersion))


def frame_error(version: OcppVersion, text: str | bytes) -> FrameError:
    with pytest.raises(FrameError) as caught:
        decode_frame(version, text)
    return caught.value


def answer(version: OcppVersion, text: str | bytes) -> list[Any]:
    """The CALLERROR we would send back, parsed."""
    parsed: list[Any] = orjson.loads(encode_error_for(version, frame_error(version, text)))
    return parsed


# --- valid frames -------------------------------------------------------------------------


@ALL
def test_call_is_decoded(version: OcppVersion) -> None:
    frame = decode_frame(version, '[2,"19223201","BootNotification",{"a":1}]')
    assert frame == Call("19223201", "BootNotification", {"a": 1})
    assert frame.message_type_id == 2


@ALL
def test_call_result_is_decoded(version: OcppVersion) -> None:
    assert decode_frame(version, '[3,"m1",{"status":"Accepted"}]') == CallResult(
        "m1", {"status": "Accepted"}
    )


@ALL
def test_call_error_is_decoded_with_details(version: OcppVersion) -> None:
    frame = decode_frame(version, '[4,"m1","NotSupported","nope",{"x":1}]')
    assert frame == CallError("m1", "NotSupported", "nope", {"x": 1})


@ALL
@pytest.mark.parametrize("tail", ["", ",null"])
def test_call_error_details_default_to_empty_object(version: OcppVersion, tail: str) -> None:
    frame = decode_frame(version, f'[4,"m1","InternalError","boom"{tail}]')
    assert frame == CallError("m1", "InternalError", "boom", {})


def test_bytes_are_accepted_as_utf8_text() -> None:
    frame = decode_frame(V16, '[2,"m","Authorize",{"idTag":"ÄÖü-日本"}]'.encode())
    assert frame == Call("m", "Authorize", {"idTag": "ÄÖü-日本"})


def test_non_ascii_id_tag_in_text_frame() -> None:
    # Scenario 29: a UTF-8 idTag is handled like any other.
    frame = decode_frame(
        V201, '[2,"m","Authorize",{"idToken":{"idToken":"Ünïcødé","type":"Local"}}]'
    )
    assert isinstance(frame, Call)
    assert frame.payload["idToken"]["idToken"] == "Ünïcødé"


def test_36_character_message_id_is_accepted() -> None:
    message_id = "x" * 36
    assert decode_frame(V16, f'[2,"{message_id}","Heartbeat",{{}}]') == Call(
        message_id, "Heartbeat", {}
    )


# --- scenario 18: invalid JSON ------------------------------------------------------------


def test_truncated_frame_v16_is_formation_violation() -> None:
    text = '[2,"abc4","Authorize",{"idTag":"A1B.....]'
    error = frame_error(V16, text)
    assert (error.kind, error.message_id) == (ErrorKind.FORMAT, "-1")
    assert answer(V16, text)[:3] == [4, "-1", "FormationViolation"]


@pytest.mark.parametrize("version", [V201, V21])
def test_truncated_frame_v2x_is_format_violation(version: OcppVersion) -> None:
    reply = answer(version, '[2,"abc4","Authorize",{"idTag":"A1B.....]')
    assert reply[:3] == [4, "-1", "FormatViolation"]
    assert isinstance(reply[3], str)
    assert reply[4] == {}


@ALL
@pytest.mark.parametrize("text", ["", "   ", "not json", "[2,", "{'a': 1}", "[2,'x','y',{}]"])
def test_unparseable_text_is_format_with_unknown_id(version: OcppVersion, text: str) -> None:
    error = frame_error(version, text)
    assert (error.kind, error.message_id, error.answerable) == (ErrorKind.FORMAT, "-1", True)


# --- scenario 19: wrong RPC shape --------------------------------------------------------


@ALL
@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("{}", "-1"),
        ('"hello"', "-1"),
        ("42", "-1"),
        ("null", "-1"),
        ("[]", "-1"),
        ("[2]", "-1"),
        ('[2,"id"]', "id"),
        ('[2,"id","Heartbeat"]', "id"),
        ('[2,"id","Heartbeat",{},{}]', "id"),
        ('["2","id","Heartbeat",{}]', "id"),
        ('[2.0,"id","Heartbeat",{}]', "id"),
        ('[true,"id","Heartbeat",{}]', "id"),
        ('[null,"id","Heartbeat",{}]', "id"),
        ('[2,"id",7,{}]', "id"),
        ('[2,"id",null,{}]', "id"),
        ('[2,"id","",{}]', "id"),
        ('[2,"id","Heartbeat",[]]', "id"),
        ('[2,"id","Heartbeat",null]', "id"),
        ('[2,"id","Heartbeat","{}"]', "id"),
    ],
)
def test_wrong_shapes_are_format_errors(version: OcppVersion, text: str, message_id: str) -> None:
    error = frame_error(version, text)
    assert (error.kind, error.message_id) == (ErrorKind.FORMAT, message_id)
    code = "FormationViolation" if version is V16 else "FormatViolation"
    assert answer(version, text)[:3] == [4, message_id, code]


def test_unknown_message_type_is_ignored_in_v16() -> None:
    # J16 §4.1.3: "ignored"; no answer at all.
    for text in ['[5,"id","X",{}]', "[0]", '[99,"id"]', "[-1]"]:
        with pytest.raises(IgnoredFrame):
            decode_frame(V16, text)


@pytest.mark.parametrize(
    ("version", "text", "message_id"),
    [
        (V201, '[5,"id","X",{}]', "id"),
        (V201, '[6,"id","X",{}]', "id"),
        (V201, "[5]", "-1"),
        (V201, "[0,null]", "-1"),
        (V21, '[7,"id","X",{}]', "id"),
        (V21, '[1,"id"]', "id"),
    ],
)
def test_unknown_message_type_v2x_is_not_supported(
    version: OcppVersion, text: str, message_id: str
) -> None:
    error = frame_error(version, text)
    assert (error.kind, error.message_id) == (ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, message_id)
    assert answer(version, text)[:3] == [4, message_id, "MessageTypeNotSupported"]


@ALL
@pytest.mark.parametrize(
    "text",
    ['[3,"id"]', '[3,"id",{},1]', '[3,"id",null]', '[4,"id","X"]', '[4,"id",1,"d",{}]',
     '[4,"id","X","d",[]]', '[4,"id","X",5,{}]', '[4,"id","X","d",{},{}]'],
)  # fmt: skip
def test_broken_responses_are_not_answerable(version: OcppVersion, text: str) -> None:
    # There is no CALL to answer: the gateway logs and fails the outstanding call instead.
    error = frame_error(version, text)
    assert (error.kind, error.message_id, error.answerable) == (ErrorKind.FORMAT, "id", False)


# --- scenario 20: bad message ids --------------------------------------------------------


@ALL
@pytest.mark.parametrize(
    ("raw_id", "echo"),
    [
        ('""', "-1"),
        ("null", "-1"),
        ('"' + "a" * 37 + '"', "a" * 37),
        ("123", "123"),
        ("12.5", "12.5"),
        ("true", "-1"),
        ("{}", "-1"),
        ('["x"]', "-1"),
    ],
)
def test_bad_message_ids(version: OcppVersion, raw_id: str, echo: str) -> None:
    text = f'[2,{raw_id},"Heartbeat",{{}}]'
    error = frame_error(version, text)
    assert (error.kind, error.message_id) == (ErrorKind.FORMAT, echo)
    code = "FormationViolation" if version is V16 else "FormatViolation"
    assert answer(version, text)[:3] == [4, echo, code]


# --- scenario 29: encoding ---------------------------------------------------------------


@ALL
def test_invalid_utf8_bytes_are_format(version: OcppVersion) -> None:
    error = frame_error(version, b'[2,"m","Authorize",{"idTag":"\xff\xfe"}]')
    assert (error.kind, error.message_id, error.description) == (
        ErrorKind.FORMAT,
        "-1",
        "invalid UTF-8",
    )


@ALL
def test_lone_surrogate_in_text_is_format(version: OcppVersion) -> None:
    error = frame_error(version, '[2,"m","Authorize",{"idTag":"\ud800"}]')
    assert (error.kind, error.message_id) == (ErrorKind.FORMAT, "-1")


# --- OCPP 2.1 CALLRESULTERROR and SEND ---------------------------------------------------


def test_v21_send_is_a_call_that_is_never_answered() -> None:
    frame = decode_frame(V21, '[6,"s1","NotifyPeriodicEventStream",{"id":1}]')
    assert frame == Send("s1", "NotifyPeriodicEventStream", {"id": 1})
    assert isinstance(frame, Call)
    assert frame.message_type_id == 6


def test_v21_call_result_error() -> None:
    frame = decode_frame(V21, '[5,"m1","FormatViolation","bad result",{}]')
    assert frame == CallResultError("m1", "FormatViolation", "bad result", {})
    assert isinstance(frame, CallError)
    assert frame.message_type_id == 5


def test_v21_broken_send_is_format() -> None:
    error = frame_error(V21, '[6,"s1","NotifyPeriodicEventStream"]')
    assert (error.kind, error.message_id) == (ErrorKind.FORMAT, "s1")


# --- encoding ----------------------------------------------------------------------------


def test_encode_call_result_and_send() -> None:
    assert encode_call("m1", "Reset", {"type": "Hard"}) == '[2,"m1","Reset",{"type":"Hard"}]'
    assert encode_result("m1", {}) == '[3,"m1",{}]'
    assert encode_send("m1", "X", {}) == '[6,"m1","X",{}]'


def test_encode_writes_decimal_exactly_and_utc_times_with_z() -> None:
    at = datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    text = encode_call("m", "CostUpdated", {"totalCost": Decimal("12.345"), "at": at})
    assert text == '[2,"m","CostUpdated",{"totalCost":12.345,"at":"2025-03-01T12:00:00.123000Z"}]'


def test_encode_refuses_non_finite_decimals() -> None:
    with pytest.raises(TypeError):
        encode_result("m", {"x": Decimal("NaN")})


@pytest.mark.parametrize(
    ("version", "kind", "code"),
    [
        (V16, ErrorKind.OCCURRENCE, "OccurenceConstraintViolation"),
        (V201, ErrorKind.OCCURRENCE, "OccurrenceConstraintViolation"),
        (V21, ErrorKind.OCCURRENCE, "OccurrenceConstraintViolation"),
        (V16, ErrorKind.FORMAT, "FormationViolation"),
        (V201, ErrorKind.FORMAT, "FormatViolation"),
        (V16, ErrorKind.NOT_IMPLEMENTED, "NotImplemented"),
        (V201, ErrorKind.SECURITY, "SecurityError"),
    ],
)
def test_encode_error_uses_version_spelling(
    version: OcppVersion, kind: ErrorKind, code: str
) -> None:
    assert orjson.loads(encode_error(version, "m", kind, "why", {"path": "data.x"})) == [
        4,
        "m",
        code,
        "why",
        {"path": "data.x"},
    ]


def test_encode_error_truncates_description_and_defaults_details() -> None:
    reply = orjson.loads(encode_error(V201, "m", ErrorKind.INTERNAL, "x" * 1000))
    assert reply == [4, "m", "InternalError", "x" * 255, {}]


def test_encode_error_details_must_be_an_object() -> None:
    with pytest.raises(TypeError):
        encode_error(V201, "m", ErrorKind.GENERIC, "", ["not", "an", "object"])  # type: ignore[arg-type]


def test_encode_result_error_v21() -> None:
    reply = orjson.loads(encode_result_error("m", ErrorKind.PROPERTY, "bad"))
    assert reply == [5, "m", "PropertyConstraintViolation", "bad", {}]


@ALL
def test_round_trip(version: OcppVersion) -> None:
    payload = {"idTag": "ÄBC", "n": 3, "nested": {"list": [1, 2]}}
    assert decode_frame(version, encode_call("id-1", "Authorize", payload)) == Call(
        "id-1", "Authorize", payload
    )
    assert decode_frame(version, encode_result("id-1", payload)) == CallResult("id-1", payload)
