"""OCPP 2.1-only station notifications: kept as reports, answered with the schema's minimum."""

from __future__ import annotations

from typing import Any

import pytest
from tests.domain.helpers import V21, add_station, handle, rows

from joule.domain.context import HANDLERS, STATELESS
from joule.ocpp.catalogue import station_actions
from joule.storage.committer import GroupCommitter
from joule.storage.models import StationReport

MESSAGES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "NotifyDERAlarm",
        {"controlType": "HVMustTrip", "gridEventFault": "OverVoltage", "alarmEnded": False,
         "timestamp": "2026-11-28T11:59:00Z"},
        {},
    ),
    (
        "NotifyDERStartStop",
        {"controlId": "der-1", "started": True, "timestamp": "2026-11-28T11:59:00Z"},
        {},
    ),
    (
        "ReportDERControl",
        {
            "requestId": 31,
            "fixedPFAbsorb": [
                {"id": "pf-1", "isDefault": True, "isSuperseded": False,
                 "fixedPF": {"priority": 1, "displacement": 0.95, "excitation": True}}
            ],
        },
        {},
    ),
    ("NotifyPriorityCharging", {"transactionId": "tx-77", "activated": True}, {}),
    (
        "NotifySettlement",
        {"transactionId": "tx-77", "pspRef": "psp-0042", "status": "Settled",
         "settlementAmount": 12.34, "settlementTime": "2026-11-28T11:58:00Z"},
        {},
    ),
    (
        "BatterySwap",
        {
            "eventType": "BatteryIn",
            "requestId": 5,
            "idToken": {"idToken": "04A1B2C3", "type": "ISO14443"},
            "batteryData": [{"evseId": 1, "serialNumber": "BAT-9", "soC": 88.5, "soH": 97.0}],
        },
        {},
    ),
    (
        "OpenPeriodicEventStream",
        {"constantStreamData": {"id": 1, "variableMonitoringId": 3,
                                "params": {"interval": 10, "values": 6}}},
        {
            "status": "Rejected",
            "statusInfo": {
                "reasonCode": "NotSupported",
                "additionalInfo": "periodic event streams are not taken; send NotifyEvent",
            },
        },
    ),
    ("ClosePeriodicEventStream", {"id": 1}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("action", "payload", "expected"), MESSAGES, ids=[m[0] for m in MESSAGES])
async def test_21_notification_is_kept_and_answered(
    committer: GroupCommitter, action: str, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    await add_station(committer)
    handled = await handle(committer, V21, action, payload)

    assert handled.response == expected
    [kept] = await rows(committer, StationReport, station_id="CS-1")
    assert (kept.action, kept.payload) == (action, payload)


def test_only_requests_needing_a_real_answer_are_left_unhandled() -> None:
    unhandled = sorted(
        a
        for a in station_actions(V21)
        if ("2.x", a) not in HANDLERS and ("2.x", a) not in STATELESS
    )
    # Authorize/transactions belong to the transaction helper and may not be imported here.
    assert set(unhandled) - {"Authorize", "MeterValues", "TransactionEvent"} == {
        "GetCertificateChainStatus",
        "PullDynamicScheduleUpdate",
        "VatNumberValidation",
    }
