"""The fast acceptor of 1.6 MeterValues never accepts what the schema refuses, and does accept
the common valid shape (otherwise it would be dead weight)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joule.bench import payloads
from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.fast_accept import ACCEPTORS, sample_enums_16
from joule.ocpp.frames import Call
from joule.ocpp.inbound import accept_request
from joule.ocpp.quirks import normalise_request
from joule.ocpp.schemas import load_schema
from joule.ocpp.validation import _validator, validate
from joule.ocpp.versions import OcppVersion

V16 = OcppVersion.V16
accepts = ACCEPTORS[("1.6", "MeterValues", "request")]
_, ENUMS = sample_enums_16()
_SCHEMA_ENUMS = load_schema(V16, "MeterValues", "request")["properties"]["meterValue"]["items"][
    "properties"
]["sampledValue"]["items"]["properties"]

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
TIMESTAMPS = st.sampled_from(
    ["2026-11-28T10:00:00Z", "2026-11-28T10:00:00.123+01:00", "2026-11-28 10:00", "yesterday", ""]
)


def _sample(valid_only: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        name: st.sampled_from(sorted(values)) for name, values in ENUMS.items()
    }
    if not valid_only:
        fields = {name: st.one_of(values, JUNK) for name, values in fields.items()}
        fields["vendorExtra"] = JUNK
    value = st.text(max_size=8) if valid_only else st.one_of(st.text(max_size=8), JUNK)
    return st.fixed_dictionaries({"value": value}, optional=fields) | (
        st.just({}) if not valid_only else st.nothing()
    )


def _payload(valid_only: bool) -> st.SearchStrategy[dict[str, Any]]:
    reading = st.fixed_dictionaries(
        {
            "timestamp": TIMESTAMPS.filter(lambda t: "T" in t) if valid_only else TIMESTAMPS,
            "sampledValue": st.lists(_sample(valid_only), min_size=1 if valid_only else 0),
        },
        optional={} if valid_only else {"extra": JUNK},
    )
    connector = st.integers(0, 10) if valid_only else st.one_of(st.integers(0, 10), JUNK)
    return st.fixed_dictionaries(
        {
            "connectorId": connector,
            "meterValue": st.lists(reading, min_size=1 if valid_only else 0, max_size=3),
        },
        optional={"transactionId": st.integers() if valid_only else st.one_of(st.integers(), JUNK)},
    )


@settings(max_examples=600, deadline=None)
@given(_payload(valid_only=False))
def test_never_accepts_what_the_schema_refuses(payload: dict[str, Any]) -> None:
    if accepts(payload):
        _validator(V16, "MeterValues", "request")(payload)  # raises if the schema refuses


def one_thing_wrong(payload: dict[str, Any], data: st.DataObject) -> None:
    """Remove one property of the payload, a reading or a sample, or set it (or an unknown one)
    to junk."""
    reading = data.draw(st.sampled_from(payload["meterValue"]))
    sample = data.draw(st.sampled_from(reading["sampledValue"]))
    target = data.draw(st.sampled_from([payload, reading, sample]))
    key = data.draw(st.sampled_from([*target, "unknownProperty"]))
    if data.draw(st.booleans()):
        target.pop(key, None)
    else:
        target[key] = data.draw(JUNK)


@settings(max_examples=600, deadline=None)
@given(_payload(valid_only=True), st.data())
def test_never_accepts_a_valid_payload_with_one_thing_wrong(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    one_thing_wrong(payload, data)
    if accepts(payload):
        _validator(V16, "MeterValues", "request")(payload)  # raises if the schema refuses


@settings(max_examples=200, deadline=None)
@given(_payload(valid_only=True))
def test_accepts_every_plain_valid_meter_values(payload: dict[str, Any]) -> None:
    _validator(V16, "MeterValues", "request")(payload)
    assert accepts(payload)


def test_the_enums_are_the_schemas() -> None:
    for name, values in ENUMS.items():
        assert values == frozenset(_SCHEMA_ENUMS[name]["enum"])


@pytest.mark.parametrize(
    ("sample", "rule"),
    [({"value": "1", "unit": "kwh"}, "unit"), ({"value": 1}, "type"), ({"unit": "Wh"}, "value")],
)
def test_what_it_refuses_still_gets_the_full_validators_error(
    sample: dict[str, Any], rule: str
) -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-28T10:00:00Z", "sampledValue": [sample]}],
    }
    assert not accepts(payload)
    with pytest.raises(Exception) as raised:
        validate(V16, "MeterValues", "request", payload)
    assert rule in str(raised.value)


def test_the_bench_frame_takes_the_fast_path() -> None:
    import orjson

    payload = orjson.loads(payloads.meter_values("m", 5, 1000))[3]
    assert accepts(payload)


HEARTBEAT_ANSWER = st.fixed_dictionaries(
    {},
    optional={
        "currentTime": st.one_of(TIMESTAMPS, JUNK),
        "customData": st.fixed_dictionaries({"vendorId": st.text(max_size=3)}),
        "unknown": JUNK,
    },
)


@pytest.mark.parametrize("version", [V16, OcppVersion.V201, OcppVersion.V21], ids=str)
@settings(max_examples=300, deadline=None)
@given(payload=HEARTBEAT_ANSWER)
def test_the_heartbeat_answer_acceptor_never_accepts_what_the_schema_refuses(
    version: OcppVersion, payload: dict[str, Any]
) -> None:
    if ACCEPTORS[(version.family, "Heartbeat", "response")](payload):
        _validator(version, "Heartbeat", "response")(payload)  # raises if the schema refuses


def test_joules_heartbeat_answer_takes_the_fast_path() -> None:
    from joule.kit.clock import SystemClock, utc_iso

    answer = {"currentTime": utc_iso(SystemClock().now())}
    for family in ("1.6", "2.x"):
        assert ACCEPTORS[(family, "Heartbeat", "response")](answer)


@pytest.mark.parametrize("version", [V16, OcppVersion.V201], ids=str)
def test_an_empty_payload_is_judged_by_its_schema_every_time(version: OcppVersion) -> None:
    # `{}` is remembered as valid per schema once its validator passed it; never the reverse,
    # and never because some other payload of the schema passed.
    boot = (
        {"chargePointVendor": "Acme", "chargePointModel": "M"}
        if version is V16
        else {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "Acme"}}
    )
    for _ in range(3):
        assert validate(version, "BootNotification", "request", boot) == []
        assert validate(version, "Heartbeat", "request", {}) == []
        with pytest.raises(OcppError) as missing:
            validate(version, "BootNotification", "request", {})
        assert missing.value.kind is ErrorKind.OCCURRENCE
        assert validate(version, "StatusNotification", "response", {}) == []
        with pytest.raises(OcppError):
            validate(version, "Heartbeat", "response", {})


@settings(max_examples=600, deadline=None)
@given(st.one_of(_payload(valid_only=False), _payload(valid_only=True)))
def test_what_it_accepts_needs_no_quirk_repair(payload: dict[str, Any]) -> None:
    # inbound.accept_request skips the quirk room for a payload the acceptor takes.
    if accepts(payload):
        repaired, quirks = normalise_request(V16, "MeterValues", payload)
        assert repaired is payload and quirks == []


@pytest.mark.parametrize(
    "sample",
    [{"value": 12}, {"value": "1", "unit": "kwh"}, {"value": 1.5, "unit": "w"}],
    ids=["numeric value", "unit case", "float value and unit case"],
)
def test_a_payload_with_a_quirk_is_repaired_not_fast_accepted(sample: dict[str, Any]) -> None:
    call = Call("m1", "MeterValues", {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-28T10:00:00Z", "sampledValue": [sample]}],
    })  # fmt: skip
    request = accept_request(V16, call)
    assert request.quirks  # repaired and counted
