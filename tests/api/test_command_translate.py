"""Operator commands translated into each version's CALL (pure); every result is schema-valid."""

from __future__ import annotations

import pytest

from joule.domain.command.service import check_request
from joule.domain.command.translate import (
    CORE_VARIABLES,
    Request,
    availability_request,
    get_configuration_request,
    parse_variable_key,
    reset_request,
    set_configuration_request,
    start_request,
    stop_request,
    trigger_request,
    unlock_request,
)
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


def valid(version: OcppVersion, request: Request) -> Request:
    check_request(version, request)  # a CSMS request of the version, matching its schema
    return request


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_command_yields_a_schema_valid_call(version: OcppVersion) -> None:
    valid(
        version,
        start_request(
            version, uid="T", token_type=None, evse_id=1, connector_id=None, remote_start_id=7
        ),
    )
    valid(
        version,
        start_request(
            version,
            uid="T",
            token_type="ISO14443",
            evse_id=None,
            connector_id=None,
            remote_start_id=7,
        ),
    )
    valid(version, stop_request(version, transaction_pk=12, transaction_uid="abc"))
    for kind in ("Hard", "Soft", "Immediate", "OnIdle"):
        valid(version, reset_request(version, type=kind, evse_id=None))
    valid(version, unlock_request(version, evse_id=2, connector_id=None))
    for evse, connector in ((None, None), (1, None), (1, 1)):
        valid(
            version,
            availability_request(version, operative=True, evse_id=evse, connector_id=connector),
        )
    for message in (
        "BootNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "SignChargingStationCertificate",
        "SignChargePointCertificate",
    ):
        valid(version, trigger_request(version, message=message, evse_id=1, connector_id=None))
    key = "HeartbeatInterval" if version is V16 else "OCPPCommCtrlr.HeartbeatInterval"
    valid(version, set_configuration_request(version, key=key, variable=None, value="60"))
    valid(version, get_configuration_request(version, keys=[key], variables=[]))
    valid(version, get_configuration_request(version, keys=[], variables=[]))


def test_start() -> None:
    assert start_request(
        V16, uid="T", token_type="KeyCode", evse_id=3, connector_id=None, remote_start_id=9
    ) == Request("RemoteStartTransaction", {"idTag": "T", "connectorId": 3})
    assert start_request(
        V16, uid="T", token_type=None, evse_id=None, connector_id=2, remote_start_id=9
    ).payload == {
        "idTag": "T",
        "connectorId": 2,
    }
    assert start_request(
        V201, uid="T", token_type=None, evse_id=None, connector_id=None, remote_start_id=9
    ) == Request(
        "RequestStartTransaction",
        {"idToken": {"idToken": "T", "type": "Central"}, "remoteStartId": 9},
    )
    with pytest.raises(Invalid):
        start_request(V201, uid="T", token_type=None, evse_id=1, connector_id=1, remote_start_id=9)
    with pytest.raises(Invalid):
        start_request(V16, uid="T", token_type=None, evse_id=1, connector_id=2, remote_start_id=9)


def test_stop_uses_each_versions_transaction_id() -> None:
    assert stop_request(V16, transaction_pk=12, transaction_uid="12") == Request(
        "RemoteStopTransaction", {"transactionId": 12}
    )
    assert stop_request(V21, transaction_pk=12, transaction_uid="abc") == Request(
        "RequestStopTransaction", {"transactionId": "abc"}
    )


@pytest.mark.parametrize(
    ("version", "asked", "sent"),
    [
        (V16, "Hard", "Hard"),
        (V16, "Immediate", "Hard"),
        (V16, "Soft", "Soft"),
        (V16, "OnIdle", "Soft"),
        (V201, "Hard", "Immediate"),
        (V201, "Immediate", "Immediate"),
        (V201, "Soft", "OnIdle"),
        (V21, "OnIdle", "OnIdle"),
        (V21, "ImmediateAndResume", "ImmediateAndResume"),
    ],
)
def test_reset_types_translate_both_ways(version: OcppVersion, asked: str, sent: str) -> None:
    assert valid(version, reset_request(version, type=asked, evse_id=None)).payload == {
        "type": sent
    }


def test_reset_refusals() -> None:
    for version, kind, evse in (
        (V16, "Hard", 1),
        (V16, "ImmediateAndResume", None),
        (V201, "ImmediateAndResume", None),
        (V201, "Warm", None),
    ):
        with pytest.raises(Invalid):
            reset_request(version, type=kind, evse_id=evse)
    assert reset_request(V201, type="Soft", evse_id=2).payload == {"type": "OnIdle", "evseId": 2}


def test_unlock_and_availability_addressing() -> None:
    assert unlock_request(V16, evse_id=2, connector_id=1).payload == {"connectorId": 2}
    assert unlock_request(V201, evse_id=2, connector_id=None).payload == {
        "evseId": 2,
        "connectorId": 1,
    }
    assert availability_request(V16, operative=False, evse_id=None, connector_id=None).payload == {
        "connectorId": 0,
        "type": "Inoperative",
    }
    assert availability_request(V201, operative=False, evse_id=0, connector_id=None).payload == {
        "operationalStatus": "Inoperative",
    }
    assert availability_request(V201, operative=True, evse_id=1, connector_id=2).payload == {
        "operationalStatus": "Operative",
        "evse": {"id": 1, "connectorId": 2},
    }


def test_trigger_names_and_refusals() -> None:
    assert trigger_request(
        V16, message="LogStatusNotification", evse_id=None, connector_id=None
    ) == Request("ExtendedTriggerMessage", {"requestedMessage": "LogStatusNotification"})
    assert trigger_request(
        V16, message="DiagnosticsStatusNotification", evse_id=None, connector_id=None
    ) == Request("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"})
    assert trigger_request(
        V201, message="StatusNotification", evse_id=1, connector_id=1
    ).payload == {
        "requestedMessage": "StatusNotification",
        "evse": {"id": 1, "connectorId": 1},
    }
    for version, message in (
        (V16, "TransactionEvent"),
        (V16, "PublishFirmwareStatusNotification"),
        (V201, "DiagnosticsStatusNotification"),
        (V21, "DiagnosticsStatusNotification"),
    ):
        with pytest.raises(Invalid):
            trigger_request(version, message=message, evse_id=None, connector_id=None)
    # Names outside the enum pass translation and are refused by the schema check.
    with pytest.raises(Invalid, match="schema"):
        valid(V201, trigger_request(V201, message="Nonsense", evse_id=None, connector_id=None))


def test_variable_keys() -> None:
    ref = parse_variable_key("Connector[2].Type[x]", evse_id=1, connector_id=2)
    assert ref.component_payload() == {
        "name": "Connector",
        "instance": "2",
        "evse": {"id": 1, "connectorId": 2},
    }
    assert ref.variable_payload() == {"name": "Type", "instance": "x"}
    plain = parse_variable_key("SampledDataCtrlr.TxUpdatedMeasurands")
    assert (plain.component, plain.variable) == ("SampledDataCtrlr", "TxUpdatedMeasurands")
    for key in ("NoDot", ".Variable", "Component.", "A[.B", "A.B[x"):
        with pytest.raises(Invalid):
            parse_variable_key(key)


def test_configuration_per_version() -> None:
    with pytest.raises(Invalid):
        set_configuration_request(V16, key=None, variable=parse_variable_key("A.B"), value="1")
    with pytest.raises(Invalid):
        get_configuration_request(V16, keys=[], variables=[parse_variable_key("A.B")])
    with pytest.raises(Invalid):
        set_configuration_request(V201, key=None, variable=None, value="1")
    everything = get_configuration_request(V16, keys=[], variables=[])
    assert everything == Request("GetConfiguration", {})
    core = get_configuration_request(V201, keys=[], variables=[])
    assert len(core.payload["getVariableData"]) == len(CORE_VARIABLES) == 10
    assert {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "MessageTimeout", "instance": "Default"},
    } in core.payload["getVariableData"]
