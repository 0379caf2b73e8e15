"""Action catalogue: directions per version, NotImplemented vs NotSupported (scenario 22)."""

from __future__ import annotations

import pytest

from joule.ocpp.catalogue import (
    ALL_ACTIONS,
    check_inbound_action,
    csms_actions,
    station_actions,
    station_send_actions,
    version_actions,
)
from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.schemas import schema_files, unconfirmed_actions
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


def inbound_error(version: OcppVersion, action: str) -> ErrorKind:
    with pytest.raises(OcppError) as caught:
        check_inbound_action(version, action)
    return caught.value.kind


@pytest.mark.parametrize("version", list(OcppVersion))
def test_directions_cover_exactly_the_schema_files(version: OcppVersion) -> None:
    every = station_actions(version) | station_send_actions(version) | csms_actions(version)
    assert every == version_actions(version)
    # Only DataTransfer goes both ways in every version.
    both = (station_actions(version) | station_send_actions(version)) & csms_actions(version)
    assert both == {"DataTransfer"}


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_call_action_has_request_and_response_schema(version: OcppVersion) -> None:
    files = schema_files(version)
    for action in station_actions(version) | csms_actions(version):
        assert (action, "request") in files
        assert (action, "response") in files


def test_v16_includes_the_security_extension() -> None:
    assert {
        "SignCertificate",
        "SecurityEventNotification",
        "LogStatusNotification",
        "SignedFirmwareStatusNotification",
    } <= station_actions(V16)
    assert {"CertificateSigned", "ExtendedTriggerMessage", "SignedUpdateFirmware", "GetLog"} <= (
        csms_actions(V16)
    )


def test_v21_send_messages() -> None:
    assert unconfirmed_actions(V21) == {"NotifyPeriodicEventStream"}
    assert station_send_actions(V21) == {"NotifyPeriodicEventStream"}
    assert station_send_actions(V201) == frozenset()
    assert "NotifyPeriodicEventStream" not in station_actions(V21)


def test_v21_keeps_every_v201_message() -> None:
    assert station_actions(V201) <= station_actions(V21)
    assert csms_actions(V201) <= csms_actions(V21)
    assert "NotifyDERAlarm" in station_actions(V21)
    assert "SetDERControl" in csms_actions(V21)


def test_all_actions_spans_versions() -> None:
    assert {"StartTransaction", "TransactionEvent", "NotifyDERAlarm", "Heartbeat"} <= ALL_ACTIONS
    assert version_actions(V16) | version_actions(V201) | version_actions(V21) == ALL_ACTIONS


@pytest.mark.parametrize(
    ("version", "action"),
    [
        (V16, "BootNotification"),
        (V16, "StopTransaction"),
        (V16, "SecurityEventNotification"),
        (V16, "DataTransfer"),
        (V201, "TransactionEvent"),
        (V201, "NotifyReport"),
        (V21, "TransactionEvent"),
        (V21, "NotifyDERAlarm"),
        (V21, "VatNumberValidation"),
    ],
)
def test_station_requests_pass(version: OcppVersion, action: str) -> None:
    check_inbound_action(version, action)


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("action", ["FooBar", "heartbeat", "", "HeartbeatRequest", "Heartbeat "])
def test_unknown_action_is_not_implemented(version: OcppVersion, action: str) -> None:
    # P4 §4.3 / J16 Table 7: NotImplemented = "Requested Action is not known by receiver".
    assert inbound_error(version, action) is ErrorKind.NOT_IMPLEMENTED


@pytest.mark.parametrize(
    ("version", "action"),
    [
        (V201, "NotifyDERAlarm"),  # a 2.1-only action on a 2.0.1 connection (scenario 22)
        (V16, "RemoteStartTransaction"),  # CSMS→station action sent by a station
        (V16, "TransactionEvent"),  # a 2.0.1 action on a 1.6 connection
        (V201, "StartTransaction"),  # a 1.6 action on a 2.0.1 connection
        (V201, "RequestStartTransaction"),
        (V21, "SetDERControl"),
        (V21, "NotifyPeriodicEventStream"),  # SEND-only message sent as a CALL
    ],
)
def test_known_but_not_a_station_request_is_not_supported(
    version: OcppVersion, action: str
) -> None:
    # P4 §4.3: NotSupported = "recognized but not supported by the receiver".
    assert inbound_error(version, action) is ErrorKind.NOT_SUPPORTED


def test_error_description_does_not_echo_huge_action_names() -> None:
    with pytest.raises(OcppError) as caught:
        check_inbound_action(V16, "X" * 10_000)
    assert len(caught.value.description) < 100
