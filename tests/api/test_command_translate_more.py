"""The first-class commands of issue 4 translated per version (pure); every CALL schema-valid,
and a request a version cannot express refused with a message that says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from joule.domain.command.service import check_request
from joule.domain.command.translate import Request, VariableRef
from joule.domain.command.translate_maintenance import (
    clear_cache_request,
    data_transfer_request,
    firmware_request,
    local_list_version_request,
    log_request,
)
from joule.domain.command.translate_messages import (
    DisplayMessage,
    clear_display_message_request,
    customer_information_request,
    get_display_messages_request,
    set_display_message_request,
)
from joule.domain.command.translate_profiles import (
    clear_profile_request,
    composite_schedule_request,
    set_profile_request,
)
from joule.domain.command.translate_reservation import (
    cancel_reservation_request,
    reserve_request,
)
from joule.domain.command.translate_variables import (
    VariableValue,
    base_report_request,
    get_variables_request,
    set_variables_request,
)
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
V2X = [V201, V21]


def valid(version: OcppVersion, request: Request) -> Request:
    check_request(version, request)
    return request


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_new_command_yields_a_schema_valid_call(version: OcppVersion) -> None:
    valid(version, firmware_request(version, request_id=5, location="https://f", retrieve_at=AT))
    valid(
        version,
        firmware_request(
            version,
            request_id=5,
            location="https://f",
            retrieve_at=AT,
            retries=3,
            retry_interval=60,
            signing_certificate="PEM",
            signature="c2ln",
        ),
    )
    for log_type in ("DiagnosticsLog", "SecurityLog"):
        valid(
            version,
            log_request(
                version,
                request_id=6,
                log_type=log_type,
                location="ftp://l",
                oldest=AT,
                latest=LATER,
                retries=1,
            ),
        )
    valid(version, clear_cache_request(version))
    valid(version, local_list_version_request(version))
    valid(version, data_transfer_request(version, vendor_id="v", message_id="m", data="x"))
    valid(
        version,
        reserve_request(
            version,
            reservation_id=9,
            expires_at=AT,
            uid="TAG",
            token_type=None,
            evse_id=1,
            group_uid="G",
        ),
    )
    valid(
        version,
        reserve_request(
            version, reservation_id=9, expires_at=AT, uid="TAG", token_type=None, evse_id=None
        ),
    )
    valid(version, cancel_reservation_request(version, reservation_id=9))
    for purpose in ("ChargePointMaxProfile", "ChargingStationMaxProfile", "TxDefaultProfile"):
        valid(
            version,
            clear_profile_request(
                version, profile_id=None, evse_id=1, purpose=purpose, stack_level=0
            ),
        )
    valid(
        version,
        clear_profile_request(version, profile_id=3, evse_id=None, purpose=None, stack_level=None),
    )
    valid(
        version,
        clear_profile_request(
            version, profile_id=None, evse_id=None, purpose=None, stack_level=None
        ),
    )
    valid(version, composite_schedule_request(version, evse_id=1, duration=600, unit="W"))
    valid(version, base_report_request(version, request_id=2, report_base="FullInventory"))


def test_v16_diagnostics_is_getdiagnostics_and_the_security_log_is_sw16_getlog() -> None:
    diagnostics = log_request(
        V16, request_id=6, log_type="DiagnosticsLog", location="ftp://l", oldest=AT, latest=LATER
    )
    assert diagnostics == Request(
        "GetDiagnostics",
        {
            "location": "ftp://l",
            "startTime": "2026-11-28T12:00:00.000Z",
            "stopTime": "2026-11-28T13:00:00.000Z",
        },
    )
    security = log_request(V16, request_id=6, log_type="SecurityLog", location="ftp://l")
    assert security.action == "GetLog" and security.payload["requestId"] == 6
    v2 = log_request(V201, request_id=6, log_type="DiagnosticsLog", location="ftp://l", oldest=AT)
    assert v2.payload == {
        "logType": "DiagnosticsLog",
        "requestId": 6,
        "log": {"remoteLocation": "ftp://l", "oldestTimestamp": "2026-11-28T12:00:00.000Z"},
    }
    with pytest.raises(Invalid, match="unknown log type"):
        log_request(V201, request_id=6, log_type="AuditLog", location="ftp://l")


def test_firmware_per_version() -> None:
    v16 = firmware_request(V16, request_id=5, location="https://f", retrieve_at=AT, retries=2)
    assert v16 == Request(
        "UpdateFirmware",
        {"location": "https://f", "retrieveDate": "2026-11-28T12:00:00.000Z", "retries": 2},
    )
    signed = firmware_request(
        V16,
        request_id=5,
        location="https://f",
        retrieve_at=AT,
        signing_certificate="P",
        signature="S",
    )
    assert signed.action == "SignedUpdateFirmware" and signed.payload["requestId"] == 5
    with pytest.raises(Invalid, match="both signing_certificate and signature"):
        firmware_request(V16, request_id=5, location="https://f", retrieve_at=AT, signature="S")
    with pytest.raises(Invalid, match="no install time"):
        firmware_request(V16, request_id=5, location="https://f", retrieve_at=AT, install_at=AT)
    v2 = firmware_request(V201, request_id=5, location="https://f", retrieve_at=AT, install_at=AT)
    assert v2.payload == {
        "requestId": 5,
        "firmware": {
            "location": "https://f",
            "retrieveDateTime": "2026-11-28T12:00:00.000Z",
            "installDateTime": "2026-11-28T12:00:00.000Z",
        },
    }


def test_reservation_connector_and_evse() -> None:
    v16 = reserve_request(
        V16, reservation_id=9, expires_at=AT, uid="TAG", token_type=None, evse_id=None
    )
    assert v16.payload["connectorId"] == 0  # 1.6: any connector
    v16 = reserve_request(
        V16, reservation_id=9, expires_at=AT, uid="TAG", token_type=None, evse_id=2, group_uid="G"
    )
    assert v16.payload == {
        "connectorId": 2,
        "expiryDate": "2026-11-28T12:00:00.000Z",
        "idTag": "TAG",
        "reservationId": 9,
        "parentIdTag": "G",
    }
    v2 = reserve_request(
        V201, reservation_id=9, expires_at=AT, uid="TAG", token_type="ISO14443", evse_id=2
    )
    assert v2.payload == {
        "id": 9,
        "expiryDateTime": "2026-11-28T12:00:00.000Z",
        "idToken": {"idToken": "TAG", "type": "ISO14443"},
        "evseId": 2,
    }
    with pytest.raises(Invalid, match="connector type"):
        reserve_request(
            V16,
            reservation_id=9,
            expires_at=AT,
            uid="T",
            token_type=None,
            evse_id=1,
            connector_type="cType2",
        )


def test_profiles_translate_ids_and_purposes() -> None:
    assert set_profile_request(V16, evse_id=1, profile={"x": 1}).payload == {
        "connectorId": 1,
        "csChargingProfiles": {"x": 1},
    }
    assert set_profile_request(V201, evse_id=1, profile={"x": 1}).payload == {
        "evseId": 1,
        "chargingProfile": {"x": 1},
    }
    v16 = clear_profile_request(
        V16, profile_id=None, evse_id=1, purpose="ChargingStationMaxProfile", stack_level=2
    )
    assert v16.payload == {
        "connectorId": 1,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "stackLevel": 2,
    }
    v2 = clear_profile_request(
        V201, profile_id=4, evse_id=1, purpose="ChargePointMaxProfile", stack_level=None
    )
    assert v2.payload == {
        "chargingProfileId": 4,
        "chargingProfileCriteria": {
            "evseId": 1,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
        },
    }
    with pytest.raises(Invalid, match=r"does not exist in OCPP 1\.6"):
        clear_profile_request(
            V16,
            profile_id=None,
            evse_id=None,
            purpose="ChargingStationExternalConstraints",
            stack_level=None,
        )
    assert composite_schedule_request(V16, evse_id=0, duration=60, unit=None).payload == {
        "duration": 60,
        "connectorId": 0,
    }
    assert composite_schedule_request(V201, evse_id=1, duration=60, unit="A").payload == {
        "duration": 60,
        "evseId": 1,
        "chargingRateUnit": "A",
    }
    with pytest.raises(Invalid, match="unknown charging rate unit"):
        composite_schedule_request(V201, evse_id=1, duration=60, unit="kW")


def test_a_profile_in_the_wrong_versions_shape_is_refused_before_sending() -> None:
    v2_profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            }
        ],
    }
    valid(V201, set_profile_request(V201, evse_id=1, profile=v2_profile))
    with pytest.raises(Invalid, match=r"does not match the OCPP 1\.6 schema"):
        check_request(V16, set_profile_request(V16, evse_id=1, profile=v2_profile))


@pytest.mark.parametrize("version", V2X)
def test_display_messages_and_customer_information_on_2x(version: OcppVersion) -> None:
    message = DisplayMessage(
        id=7, content="Free charging today", language="en", state="Idle", start_at=AT, end_at=LATER
    )
    sent = valid(version, set_display_message_request(version, message=message))
    assert sent.payload["message"]["message"] == {
        "format": "UTF8",
        "content": "Free charging today",
        "language": "en",
    }
    valid(
        version,
        get_display_messages_request(
            version, request_id=3, ids=[7], priority="InFront", state=None
        ),
    )
    valid(
        version,
        get_display_messages_request(version, request_id=3, ids=None, priority=None, state=None),
    )
    valid(version, clear_display_message_request(version, message_id=7))
    for who in (
        {"customer_identifier": "C-1", "uid": None, "certificate": None},
        {"customer_identifier": None, "uid": "TAG", "certificate": None},
        {
            "customer_identifier": None,
            "uid": None,
            "certificate": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "a",
                "issuerKeyHash": "b",
                "serialNumber": "c",
            },
        },
    ):
        valid(
            version,
            customer_information_request(
                version, request_id=4, report=True, clear=False, token_type=None, **who
            ),
        )
    with pytest.raises(Invalid, match="exactly one"):
        customer_information_request(
            version,
            request_id=4,
            report=True,
            clear=True,
            customer_identifier="C",
            uid="T",
            token_type=None,
            certificate=None,
        )
    with pytest.raises(Invalid, match="a report, a clear"):
        customer_information_request(
            version,
            request_id=4,
            report=False,
            clear=False,
            customer_identifier="C",
            uid=None,
            token_type=None,
            certificate=None,
        )


def test_what_16_cannot_express_is_refused_with_a_reason() -> None:
    message = DisplayMessage(id=1, content="x")
    for attempt in (
        lambda: set_display_message_request(V16, message=message),
        lambda: get_display_messages_request(
            V16, request_id=1, ids=None, priority=None, state=None
        ),
        lambda: clear_display_message_request(V16, message_id=1),
        lambda: customer_information_request(
            V16,
            request_id=1,
            report=True,
            clear=False,
            customer_identifier="C",
            uid=None,
            token_type=None,
            certificate=None,
        ),
    ):
        with pytest.raises(Invalid, match=r"does not exist in OCPP 1\.6"):
            attempt()
    ref = VariableRef(component="OCPPCommCtrlr", variable="HeartbeatInterval")
    with pytest.raises(Invalid, match="configuration keys"):
        get_variables_request(V16, variables=[(ref, None)])
    with pytest.raises(Invalid, match="configuration keys"):
        set_variables_request(V16, values=[VariableValue(ref, "60")])
    with pytest.raises(Invalid, match="data as a string"):
        data_transfer_request(V16, vendor_id="v", message_id=None, data={"a": 1})
    with pytest.raises(Invalid, match="cannot report a SummaryInventory"):
        base_report_request(V16, request_id=1, report_base="SummaryInventory")
    assert base_report_request(V16, request_id=1, report_base="FullInventory") == Request(
        "GetConfiguration", {}
    )


@pytest.mark.parametrize("version", V2X)
def test_variables_first_class(version: OcppVersion) -> None:
    ref = VariableRef(component="EVSE", variable="Power", evse_id=1, variable_instance="x")
    got = valid(version, get_variables_request(version, variables=[(ref, "MaxSet")]))
    assert got.payload["getVariableData"] == [
        {
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power", "instance": "x"},
            "attributeType": "MaxSet",
        }
    ]
    put = valid(version, set_variables_request(version, values=[VariableValue(ref, "11000")]))
    assert put.payload["setVariableData"][0]["attributeValue"] == "11000"
    with pytest.raises(Invalid, match="at least one"):
        get_variables_request(version, variables=[])
    assert data_transfer_request(version, vendor_id="v", message_id=None, data={"a": 1}).payload[
        "data"
    ] == {"a": 1}
