"""The typed decoder of 1.6 MeterValues frames takes exactly what the fast acceptor takes, gives
exactly orjson's payload, and leaves every other frame to the ordinary path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ocpp.test_fast_accept import _payload, one_thing_wrong

from joule.bench import payloads
from joule.ocpp.errors import ErrorKind
from joule.ocpp.fast_accept import ACCEPTORS
from joule.ocpp.frames import Call, FrameError, IgnoredFrame, decode_frame
from joule.ocpp.inbound import accept_request
from joule.ocpp.typed import typed_call
from joule.ocpp.validation import _validator
from joule.ocpp.versions import OcppVersion

V16 = OcppVersion.V16
accepts = ACCEPTORS[("1.6", "MeterValues", "request")]
INT64 = (-(2**63), 2**63 - 1)


def meter_values_call_16(text: str | bytes) -> tuple[str, dict[str, Any]] | None:
    typed = typed_call(V16, text)
    if typed is None:
        return None
    assert typed[1] == "MeterValues"
    return typed[0], typed[2]


def _frame(message_id: Any, payload: Any, action: Any = "MeterValues", type_id: Any = 2) -> str:
    return orjson.dumps([type_id, message_id, action, payload]).decode()


def _ints_in_range(value: Any) -> bool:
    """Whether every integer in a JSON value fits 64 bits (beyond, orjson reads a float)."""
    if isinstance(value, dict):
        return all(_ints_in_range(v) for v in value.values())
    if isinstance(value, list):
        return all(_ints_in_range(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64[0] <= value <= INT64[1]
    return True


@settings(max_examples=800, deadline=None)
@given(st.one_of(_payload(valid_only=False), _payload(valid_only=True)))
def test_it_takes_exactly_what_the_fast_acceptor_takes_and_reads_what_orjson_reads(
    payload: dict[str, Any],
) -> None:
    try:
        text = _frame("m-1", payload)
    except TypeError:  # an integer orjson cannot write: no frame to decode
        return
    sent = orjson.loads(text)[3]
    typed = meter_values_call_16(text)
    if typed is not None:
        assert typed == ("m-1", sent)
        assert accepts(sent)
        _validator(V16, "MeterValues", "request")(sent)  # raises if the schema refuses
    elif _ints_in_range(sent):
        assert not accepts(sent)


@settings(max_examples=600, deadline=None)
@given(_payload(valid_only=True), st.data())
def test_a_valid_frame_with_one_thing_wrong_is_left_to_the_ordinary_path(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    one_thing_wrong(payload, data)
    try:
        text = _frame("m-1", payload)
    except TypeError:
        return
    sent = orjson.loads(text)[3]
    typed = meter_values_call_16(text)
    assert typed is None if not accepts(sent) else typed in (None, ("m-1", sent))


@settings(max_examples=200, deadline=None)
@given(_payload(valid_only=True))
def test_every_plain_valid_frame_is_decoded_typed(payload: dict[str, Any]) -> None:
    if not _ints_in_range(payload):
        return
    text = _frame("m-1", payload)
    frame = decode_frame(V16, text)
    assert isinstance(frame, Call) and frame.validated
    assert frame.payload == orjson.loads(text)[3]


def test_the_bench_frame_is_decoded_typed_and_dispatched_as_sent() -> None:
    text = payloads.meter_values("m1", 3, 1000).decode()
    frame = decode_frame(V16, text)
    assert isinstance(frame, Call) and frame.validated
    assert frame == Call("m1", "MeterValues", orjson.loads(text)[3])
    request = accept_request(V16, frame)
    assert request.payload is frame.payload and not request.repaired


@pytest.mark.parametrize(
    "text",
    [
        # Not a CALL, not this action, not this version's shape of the frame.
        '[3,"m1",{"connectorId":1}]',
        '[2,"m1","Heartbeat",{}]',
        '[6,"m1","MeterValues",{"connectorId":1,"meterValue":[]}]',
        # A message id the frame rules refuse: the ordinary path words the CALLERROR.
        _frame("", {"connectorId": 1, "meterValue": []}),
        _frame("x" * 37, {"connectorId": 1, "meterValue": []}),
        _frame(7, {"connectorId": 1, "meterValue": []}),
        # Valid but unusual, or a quirk to repair, or refused by the schema.
        _frame("m1", {"connectorId": 1.0, "meterValue": [{"timestamp": "2026-11-28T10:00:00Z",
                                                          "sampledValue": [{"value": "1"}]}]}),
        _frame("m1", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-28 10:00",
                                                        "sampledValue": [{"value": "1"}]}]}),
        _frame("m1", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-28T10:00:00Z",
                                                        "sampledValue": [{"value": 12}]}]}),
        _frame("m1", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-28T10:00:00Z",
                                                        "sampledValue": []}]}),
        _frame("m1", {"connectorId": 1, "transactionId": 2**63,
                      "meterValue": [{"timestamp": "2026-11-28T10:00:00Z",
                                      "sampledValue": [{"value": "1"}]}]}),
        # Not JSON, or more than one value.
        '[2,"m1","MeterValues",{"connectorId":1,',
        _frame("m1", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-28T10:00:00Z",
                                                        "sampledValue": [{"value": "1"}]}]})
        + " []",
    ],
)  # fmt: skip
def test_every_other_frame_goes_the_ordinary_way(text: str) -> None:
    assert meter_values_call_16(text) is None
    try:
        frame = decode_frame(V16, text)
    except (FrameError, IgnoredFrame):
        return
    assert not (isinstance(frame, Call) and frame.validated)


def test_a_broken_frame_still_gets_the_ordinary_callerror() -> None:
    with pytest.raises(FrameError) as raised:
        decode_frame(V16, _frame("x" * 37, {"connectorId": 1, "meterValue": []}))
    assert raised.value.kind is ErrorKind.FORMAT and "longer than 36" in raised.value.description


def test_later_versions_never_take_the_1_6_decoder() -> None:
    text = payloads.meter_values("m1", 3, 1000).decode()
    for version in (OcppVersion.V201, OcppVersion.V21):
        frame = decode_frame(version, text)
        assert isinstance(frame, Call) and not frame.validated


def test_duplicate_keys_read_as_orjson_reads_them() -> None:
    # RFC 8259 leaves duplicates open; whatever the typed path takes, it takes orjson's reading.
    text = (
        '[2,"m1","MeterValues",{"connectorId":1,"connectorId":2,"meterValue":'
        '[{"timestamp":"2026-11-28T10:00:00Z","sampledValue":[{"value":"1"}]}]}]'
    )
    typed = meter_values_call_16(text)
    assert typed is None or typed[1] == orjson.loads(text)[3]


def test_bytes_read_as_the_same_text() -> None:
    text = payloads.meter_values("m1", 3, 1000).decode()
    assert meter_values_call_16(text.encode()) == meter_values_call_16(text) is not None
    assert meter_values_call_16(b'[2,"m1","Heartbeat",{}]') is None
