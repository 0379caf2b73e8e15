"""2.x smart-charging and reservation notifications (2.0.1 and 2.1): kept, answered minimally."""

from __future__ import annotations

from typing import Any

import pytest
from tests.domain.helpers import V2X, add_station, handle, rows

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import StationReport

SCHEDULE: dict[str, Any] = {
    "id": 1,
    "startSchedule": "2026-11-28T12:00:00Z",
    "chargingRateUnit": "W",
    "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
        {"startPeriod": 3600, "limit": 7400.0},
    ],
}

MESSAGES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "NotifyChargingLimit",
        {
            "evseId": 1,
            "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
            "chargingSchedule": [SCHEDULE],
        },
        {},
    ),
    ("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1}, {}),
    (
        "ReportChargingProfiles",
        {
            "requestId": 12,
            "chargingLimitSource": "CSO",
            "evseId": 1,
            "tbc": False,
            "chargingProfile": [
                {
                    "id": 100,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [SCHEDULE],
                }
            ],
        },
        {},
    ),
    (
        "NotifyEVChargingNeeds",
        {
            "evseId": 1,
            "maxScheduleTuples": 3,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "departureTime": "2026-11-28T18:00:00Z",
                "acChargingParameters": {
                    "energyAmount": 30000,
                    "evMinCurrent": 6,
                    "evMaxCurrent": 32,
                    "evMaxVoltage": 400,
                },
            },
        },
        {"status": "Accepted"},
    ),
    (
        "NotifyEVChargingSchedule",
        {"timeBase": "2026-11-28T12:00:00Z", "evseId": 1, "chargingSchedule": SCHEDULE},
        {"status": "Accepted"},
    ),
    ("ReservationStatusUpdate", {"reservationId": 9, "reservationUpdateStatus": "Expired"}, {}),
]


@pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")
@pytest.mark.parametrize(("action", "payload", "expected"), MESSAGES, ids=[m[0] for m in MESSAGES])
async def test_notification_is_kept_and_answered(
    committer: GroupCommitter,
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    await add_station(committer)
    handled = await handle(committer, version, action, payload)

    assert handled.response == expected
    [kept] = await rows(committer, StationReport, station_id="CS-1")
    assert kept.action == action
    assert kept.payload == payload
    assert kept.request_id == payload.get("requestId")
