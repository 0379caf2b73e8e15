"""2.x device-model reports (2.0.1 and 2.1) on the real database: variables upserted, kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.domain.helpers import T0, V2X, V21, add_station, handle, rows

from joule.domain.device.variables import component_key, variable_key
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import DeviceVariable, StationReport
from joule.storage.repositories.device import list_variables
from joule.storage.uow import UnitOfWork

versions = pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")


def report_data() -> list[dict[str, Any]]:
    return [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
            "variableAttribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
        },
        {
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power"},
            # type and mutability left out: the schema defaults (Actual, ReadWrite) apply.
            "variableAttribute": [{"value": "0"}, {"type": "MaxSet", "value": "22000"}],
        },
        {
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
            "variable": {"name": "ConnectorType"},
            "variableAttribute": [{"value": "cType2", "mutability": "ReadOnly"}],
        },
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "variableAttribute": [{"mutability": "WriteOnly"}],  # write-only: no value
        },
        {
            "component": {"name": "TxCtrlr", "instance": "main"},
            "variable": {"name": "EVConnectionTimeOut", "instance": "1"},
            "variableAttribute": [{"value": "120", "mutability": "ReadWrite"}],
        },
    ]


def notify_report(data: list[dict[str, Any]] | None, *, seq_no: int, tbc: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "requestId": 42,
        "generatedAt": "2026-11-28T11:59:59Z",
        "tbc": tbc,
        "seqNo": seq_no,
    }
    if data is not None:
        payload["reportData"] = data
    return payload


async def variables(committer: GroupCommitter) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    async def work(uow: UnitOfWork) -> list[DeviceVariable]:
        return await list_variables(uow.session, "CS-1")

    return {
        (v.component, v.variable, v.attribute_type): (v.value, v.mutability)
        for v in await committer.read(work)
    }


@versions
async def test_notify_report_upserts_every_variable_attribute(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    first = await handle(
        committer, version, "NotifyReport", notify_report(report_data(), seq_no=0, tbc=True)
    )
    assert first.response == {}
    assert await variables(committer) == {
        ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"): ("300", "ReadWrite"),
        ("EVSE@1", "Power", "Actual"): ("0", "ReadWrite"),
        ("EVSE@1", "Power", "MaxSet"): ("22000", "ReadWrite"),
        ("Connector@1.2", "ConnectorType", "Actual"): ("cType2", "ReadOnly"),
        ("SecurityCtrlr", "BasicAuthPassword", "Actual"): (None, "WriteOnly"),
        ("TxCtrlr[main]", "EVConnectionTimeOut[1]", "Actual"): ("120", "ReadWrite"),
    }

    # The next part of a later report changes values in place: no duplicate rows.
    changed = report_data()[:2]
    changed[0]["variableAttribute"][0]["value"] = "60"
    changed[1]["variableAttribute"] = [{"type": "MaxSet", "value": "11000"}]
    await handle(
        committer,
        version,
        "NotifyReport",
        notify_report(changed, seq_no=1, tbc=False),
        received_at=T0 + timedelta(minutes=1),
    )
    stored = await variables(committer)
    assert len(stored) == 6
    assert stored[("OCPPCommCtrlr", "HeartbeatInterval", "Actual")] == ("60", "ReadWrite")
    assert stored[("EVSE@1", "Power", "MaxSet")] == ("11000", "ReadWrite")
    assert stored[("EVSE@1", "Power", "Actual")] == ("0", "ReadWrite")

    reports = await rows(committer, StationReport, station_id="CS-1", action="NotifyReport")
    assert [(r.request_id, r.payload["seqNo"]) for r in reports] == [(42, 0), (42, 1)]


@versions
async def test_notify_report_without_data_and_with_a_repeated_key(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(committer, version, "NotifyReport", notify_report(None, seq_no=0, tbc=False))
    assert await variables(committer) == {}

    twice = [report_data()[0], report_data()[0]]
    twice[1]["variableAttribute"][0]["value"] = "900"
    await handle(committer, version, "NotifyReport", notify_report(twice, seq_no=0, tbc=False))
    assert await variables(committer) == {
        ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"): ("900", "ReadWrite")
    }
    assert len(await rows(committer, StationReport, action="NotifyReport")) == 2


@versions
async def test_notify_event_updates_actual_values_and_keeps_mutability(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(
        committer, version, "NotifyReport", notify_report(report_data(), seq_no=0, tbc=False)
    )
    event: dict[str, Any] = {
        "generatedAt": "2026-11-28T12:00:30Z",
        "seqNo": 0,
        "tbc": False,
        "eventData": [
            {
                "eventId": 7,
                "timestamp": "2026-11-28T12:00:29Z",
                "trigger": "Delta",
                "actualValue": "7360",
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "eventNotificationType": "HardWiredMonitor",
            },
            {
                "eventId": 8,
                "timestamp": "2026-11-28T12:00:29Z",
                "trigger": "Alerting",
                "actualValue": "true",
                "techCode": "OVT",
                "component": {"name": "ChargingStation"},
                "variable": {"name": "Problem"},
                "eventNotificationType": "HardWiredNotification",
            },
        ],
    }
    handled = await handle(committer, version, "NotifyEvent", event)
    assert handled.response == {}

    stored = await variables(committer)
    assert stored[("EVSE@1", "Power", "Actual")] == ("7360", "ReadWrite")
    assert stored[("ChargingStation", "Problem", "Actual")] == ("true", None)
    [kept] = await rows(committer, StationReport, action="NotifyEvent")
    assert kept.payload == event and kept.request_id is None


@versions
async def test_monitoring_customer_and_display_reports_are_kept(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    monitor: dict[str, Any] = {
        "id": 3,
        "transaction": False,
        "value": 250.0,
        "type": "UpperThreshold",
        "severity": 4,
    }
    if version is V21:
        monitor["eventNotificationType"] = "CustomMonitor"
    messages: list[tuple[str, dict[str, Any]]] = [
        (
            "NotifyMonitoringReport",
            {
                "requestId": 5,
                "seqNo": 0,
                "generatedAt": "2026-11-28T12:00:00Z",
                "monitor": [
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "variableMonitoring": [monitor],
                    }
                ],
            },
        ),
        (
            "NotifyCustomerInformation",
            {
                "data": "idToken 04A1B2C3: 3 transactions",
                "seqNo": 0,
                "generatedAt": "2026-11-28T12:00:00Z",
                "requestId": 6,
            },
        ),
        (
            "NotifyDisplayMessages",
            {
                "requestId": 7,
                "messageInfo": [
                    {
                        "id": 1,
                        "priority": "NormalCycle",
                        "message": {"format": "UTF8", "language": "nl", "content": "Welkom"},
                    }
                ],
            },
        ),
    ]
    for action, payload in messages:
        assert (await handle(committer, version, action, payload)).response == {}
    kept = await rows(committer, StationReport, station_id="CS-1")
    assert [(r.action, r.request_id) for r in kept] == [
        ("NotifyMonitoringReport", 5),
        ("NotifyCustomerInformation", 6),
        ("NotifyDisplayMessages", 7),
    ]
    assert await variables(committer) == {}


def test_keys_name_instance_evse_and_connector() -> None:
    assert component_key({"name": "EVSE"}) == "EVSE"
    assert component_key({"name": "EVSE", "evse": {"id": 2}}) == "EVSE@2"
    connector = {"name": "Connector", "instance": "x", "evse": {"id": 2, "connectorId": 0}}
    assert component_key(connector) == "Connector[x]@2.0"
    assert variable_key({"name": "Power", "instance": "L1"}) == "Power[L1]"
