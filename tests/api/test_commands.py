"""Commands over the API without a station on the line: roles, 404, 409 offline, 422 before sending.

The requests are translated and validated for the station's last known version before the
offline check, so the audit log shows exactly what would have been sent.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from joule.config import Settings
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import add_station, seen_connected, station_says

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21

COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("start", {"uid": "DRIVER", "evse_id": 1}),
    ("stop", {"transaction_id": 1}),
    ("reset", {"type": "Soft"}),
    ("unlock", {"evse_id": 1}),
    ("availability", {"operative": False}),
    ("trigger", {"message": "Heartbeat"}),
    ("configuration", {"key": "HeartbeatInterval", "value": "60"}),
    ("configuration", {}),
    ("ocpp/ClearCache", {}),
]


async def _audit(client: httpx.AsyncClient, station_id: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/stations/{station_id}/commands")
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_viewer_may_send_no_command(
    viewer: httpx.AsyncClient, operator: httpx.AsyncClient
) -> None:
    await add_station(operator, "CS-V")
    for path, body in COMMANDS:
        resp = await viewer.post(f"/stations/CS-V/{path}", json=body)
        assert resp.status_code == 403, (path, resp.text)
    assert await _audit(viewer, "CS-V") == []


async def test_unknown_station_is_404(operator: httpx.AsyncClient) -> None:
    for path, body in COMMANDS:
        resp = await operator.post(f"/stations/NOPE/{path}", json=body)
        assert resp.status_code == 404, (path, resp.text)
        assert resp.json()["detail"] == "station NOPE does not exist"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The production call timeout (30 s), far above any stall of a loaded CI box: an answer
    well inside it cannot have waited for it (the API tests' 2 s was one stall away)."""
    return settings.model_copy(update={"call_timeout_s": 30.0})


async def test_never_connected_station_is_409_quickly_and_audited(
    operator: httpx.AsyncClient, committer: GroupCommitter, settings: Settings
) -> None:
    await add_station(operator, "CS-NEW")
    started = time.monotonic()
    resp = await operator.post("/stations/CS-NEW/reset", json={"type": "Hard"})
    # No waiting for a call timeout: half of it at most, whatever the load.
    assert time.monotonic() - started < settings.call_timeout_s / 2
    assert resp.status_code == 409
    assert resp.json()["detail"] == "station CS-NEW is not connected"
    [record] = await _audit(operator, "CS-NEW")
    assert record["outcome"] == "offline" and record["message_id"] is None
    assert record["operator"] == "operator@example.test"
    # No version known yet: the record keeps the operator's request as asked.
    assert record["action"] == "reset" and record["request"] == {"type": "Hard", "evse_id": None}


@pytest.mark.parametrize("online_in_db", [False, True])
async def test_offline_16_station_gets_translated_requests(
    operator: httpx.AsyncClient, committer: GroupCommitter, online_in_db: bool
) -> None:
    # online_in_db: the database still says online, but no gateway holds the socket.
    await add_station(operator, "CS-16")
    await seen_connected(committer, "CS-16", V16, online=online_in_db)
    await operator.post("/tokens", json={"uid": "DRIVER"})
    sent = [
        (
            "start",
            {"uid": "DRIVER", "evse_id": 2},
            "RemoteStartTransaction",
            {"idTag": "DRIVER", "connectorId": 2},
        ),
        ("reset", {"type": "Immediate"}, "Reset", {"type": "Hard"}),
        ("reset", {"type": "OnIdle"}, "Reset", {"type": "Soft"}),
        ("unlock", {"evse_id": 2, "connector_id": 1}, "UnlockConnector", {"connectorId": 2}),
        (
            "availability",
            {"operative": False},
            "ChangeAvailability",
            {"connectorId": 0, "type": "Inoperative"},
        ),
        (
            "trigger",
            {"message": "StatusNotification", "evse_id": 1},
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "connectorId": 1},
        ),
        (
            "trigger",
            {"message": "SignChargingStationCertificate"},
            "ExtendedTriggerMessage",
            {"requestedMessage": "SignChargePointCertificate"},
        ),
        (
            "configuration",
            {"key": "HeartbeatInterval", "value": "60"},
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "60"},
        ),
        ("configuration", {}, "GetConfiguration", {}),
        ("configuration", {"keys": ["A", "B"]}, "GetConfiguration", {"key": ["A", "B"]}),
        ("ocpp/ClearCache", {}, "ClearCache", {}),
    ]
    for path, body, _, _ in sent:
        resp = await operator.post(f"/stations/CS-16/{path}", json=body)
        assert resp.status_code == 409, (path, resp.text)
        assert resp.json()["detail"] == "station CS-16 is not connected"
    records = list(reversed(await _audit(operator, "CS-16")))
    assert [(r["action"], r["request"]) for r in records] == [(a, p) for _, _, a, p in sent]
    assert {r["outcome"] for r in records} == {"offline"}


@pytest.mark.parametrize("version", [V201, V21])
async def test_offline_2x_station_gets_translated_requests(
    operator: httpx.AsyncClient, committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(operator, "CS-2X")
    await seen_connected(committer, "CS-2X", version, online=False)
    await operator.post("/tokens", json={"uid": "KNOWN", "type": "KeyCode"})
    bodies = [
        ("start", {"uid": "KNOWN", "evse_id": 1}),
        ("start", {"uid": "STRANGER"}),
        ("reset", {"type": "Hard"}),
        ("reset", {"type": "Soft", "evse_id": 1}),
        ("unlock", {"evse_id": 1}),
        ("availability", {"operative": True, "evse_id": 1, "connector_id": 2}),
        ("trigger", {"message": "SignChargePointCertificate"}),
        ("configuration", {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"}),
        ("configuration", {"component": "EVSE", "variable": "Power", "evse_id": 1, "value": "7"}),
        ("configuration", {"keys": ["AuthCtrlr.Enabled", "Connector[2].Type[x]"]}),
        ("configuration", {}),
    ]
    for path, body in bodies:
        resp = await operator.post(f"/stations/CS-2X/{path}", json=body)
        assert resp.status_code == 409, (path, resp.text)
    records = list(reversed(await _audit(operator, "CS-2X")))
    requests = [(r["action"], r["request"]) for r in records]
    start_known, start_stranger = requests[0][1], requests[1][1]
    assert requests[0][0] == "RequestStartTransaction"
    assert start_known["idToken"] == {"idToken": "KNOWN", "type": "KeyCode"}
    assert start_known["evseId"] == 1 and start_known["remoteStartId"] >= 1
    assert start_stranger["idToken"] == {"idToken": "STRANGER", "type": "Central"}
    assert "evseId" not in start_stranger
    assert start_stranger["remoteStartId"] != start_known["remoteStartId"]
    assert requests[2:8] == [
        ("Reset", {"type": "Immediate"}),
        ("Reset", {"type": "OnIdle", "evseId": 1}),
        ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
        (
            "ChangeAvailability",
            {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}},
        ),
        ("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}),
        (
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": "60",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            },
        ),
    ]
    assert requests[8] == (
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "7",
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                }
            ]
        },
    )
    assert requests[9] == (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}},
                {
                    "component": {"name": "Connector", "instance": "2"},
                    "variable": {"name": "Type", "instance": "x"},
                },
            ]
        },
    )
    core = requests[10]
    assert core[0] == "GetVariables" and len(core[1]["getVariableData"]) == 10


async def test_requests_a_version_cannot_express_are_422_and_not_sent(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-A")
    await add_station(operator, "CS-B")
    await seen_connected(committer, "CS-A", V16, online=False)
    await seen_connected(committer, "CS-B", V201, online=False)
    cases = [
        ("CS-A", "reset", {"type": "Hard", "evse_id": 1}),  # 1.6 resets the whole station
        ("CS-A", "reset", {"type": "Warm"}),
        ("CS-A", "unlock", {"evse_id": 1, "connector_id": 2}),  # 1.6: one connector per EVSE
        ("CS-A", "trigger", {"message": "TransactionEvent"}),
        ("CS-A", "configuration", {"component": "A", "variable": "B", "value": "1"}),
        ("CS-A", "configuration", {"key": "K" * 51, "value": "1"}),  # schema: maxLength 50
        ("CS-A", "start", {"uid": "U" * 21}),  # 1.6 idTag: at most 20 characters
        ("CS-B", "trigger", {"message": "DiagnosticsStatusNotification"}),  # no 2.x twin
        ("CS-B", "trigger", {"message": "SignV2G20Certificate"}),  # 2.1 only
        ("CS-B", "reset", {"type": "ImmediateAndResume"}),  # 2.1 only
        ("CS-B", "start", {"uid": "U", "connector_id": 1}),  # 2.x starts on an EVSE
        ("CS-B", "configuration", {"key": "NoDot", "value": "1"}),
        ("CS-B", "availability", {"operative": True, "connector_id": 1}),
    ]
    for station_id, path, body in cases:
        resp = await operator.post(f"/stations/{station_id}/{path}", json=body)
        assert resp.status_code == 422, (station_id, path, body, resp.text)
        assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]
    assert await _audit(operator, "CS-A") == [] and await _audit(operator, "CS-B") == []


async def test_bad_command_bodies_are_422(operator: httpx.AsyncClient) -> None:
    await add_station(operator, "CS-C")
    for path, body in (
        ("start", {}),
        ("start", {"uid": "U", "evse_id": -1}),
        ("stop", {"transaction_id": "abc"}),
        ("reset", {}),
        ("unlock", {}),
        ("availability", {"evse_id": 1}),
        ("trigger", {}),
        ("configuration", {"key": "K"}),
        ("configuration", {"keys": ["A"], "key": "B", "value": "1"}),
        ("configuration", {"component": "A", "value": "1"}),
        ("configuration", {"value": "1"}),
        ("reset", {"type": "Soft", "extra": 1}),
    ):
        resp = await operator.post(f"/stations/CS-C/{path}", json=body)
        assert resp.status_code == 422, (path, body, resp.text)


@pytest.mark.parametrize("version", [V16, V201])
async def test_raw_ocpp_is_validated_before_sending(
    operator: httpx.AsyncClient, committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(operator, "CS-RAW")
    await seen_connected(committer, "CS-RAW", version, online=False)
    bad_profile: dict[str, Any] = (
        {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": "x"}}
        if version is V16
        else {"evseId": 1, "chargingProfile": {"id": "x"}}
    )
    resp = await operator.post("/stations/CS-RAW/ocpp/SetChargingProfile", json=bad_profile)
    assert resp.status_code == 422
    assert "SetChargingProfile payload does not match the OCPP" in resp.json()["detail"]
    for action in ("NoSuchAction", "BootNotification", "StatusNotification"):
        resp = await operator.post(f"/stations/CS-RAW/ocpp/{action}", json={})
        assert resp.status_code == 422, action
        assert "is not a CSMS request" in resp.json()["detail"]
    other = "GetBaseReport" if version is V16 else "GetConfiguration"  # the other version's
    assert (await operator.post(f"/stations/CS-RAW/ocpp/{other}", json={})).status_code == 422
    assert (await operator.post("/stations/CS-RAW/ocpp/ClearCache", json=[1])).status_code == 422
    assert await _audit(operator, "CS-RAW") == []  # nothing was sent
    # A valid request gets as far as the (absent) connection.
    resp = await operator.post("/stations/CS-RAW/ocpp/ClearCache", json={})
    assert resp.status_code == 409
    [record] = await _audit(operator, "CS-RAW")
    assert (record["action"], record["request"], record["outcome"]) == ("ClearCache", {}, "offline")


async def test_stop_looks_up_our_transaction(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-S")
    await add_station(operator, "CS-T")
    await seen_connected(committer, "CS-S", V16, online=False)
    answer = await station_says(
        committer,
        "CS-T",
        V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "2026-11-28T08:00:00Z"},
    )
    other_station_tx = answer["transactionId"]
    resp = await operator.post("/stations/CS-S/stop", json={"transaction_id": other_station_tx})
    assert resp.status_code == 404  # another station's transaction is not this station's
    answer = await station_says(
        committer,
        "CS-S",
        V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "2026-11-28T08:00:00Z"},
    )
    tx = answer["transactionId"]
    assert (
        await operator.post("/stations/CS-S/stop", json={"transaction_id": tx})
    ).status_code == 409
    [record] = await _audit(operator, "CS-S")
    assert (record["action"], record["request"]) == ("RemoteStopTransaction", {"transactionId": tx})
    await station_says(
        committer,
        "CS-S",
        V16,
        "StopTransaction",
        {"transactionId": tx, "meterStop": 10, "timestamp": "2026-11-28T08:10:00Z"},
    )
    resp = await operator.post("/stations/CS-S/stop", json={"transaction_id": tx})
    assert resp.status_code == 409 and "already completed" in resp.json()["detail"]


async def test_audit_log_is_paged_and_filtered(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-L")
    await seen_connected(committer, "CS-L", V16, online=False)
    for body in ({"type": "Soft"}, {"type": "Hard"}):
        await operator.post("/stations/CS-L/reset", json=body)
    await operator.post("/stations/CS-L/ocpp/ClearCache", json={})
    page = (await viewer.get("/stations/CS-L/commands", params={"limit": 2})).json()
    assert page["total"] == 3 and [r["action"] for r in page["items"]] == ["ClearCache", "Reset"]
    resets = (await viewer.get("/stations/CS-L/commands", params={"action": "Reset"})).json()
    assert [r["request"]["type"] for r in resets["items"]] == ["Hard", "Soft"]
    assert set(page["items"][0]) == {
        "id",
        "operator",
        "action",
        "message_id",
        "request",
        "outcome",
        "response",
        "at",
    }


@pytest.mark.parametrize("version", [V16, V201])
async def test_remote_start_refuses_a_token_that_may_not_start(
    operator: httpx.AsyncClient, committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(operator, "CS-R")
    await seen_connected(committer, "CS-R", version, online=False)
    await operator.post("/tokens", json={"uid": "BLOCKED", "status": "Blocked"})
    await operator.post("/tokens", json={"uid": "OLD", "expiry": "2026-01-01T00:00:00Z"})
    await operator.post("/tokens", json={"uid": "BUSY"})
    await add_station(operator, "CS-BUSY")
    await station_says(
        committer,
        "CS-BUSY",
        V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "BUSY", "meterStart": 0, "timestamp": "2026-11-28T08:00:00Z"},
    )
    for uid in ("BLOCKED", "OLD", "BUSY", "blocked"):
        resp = await operator.post("/stations/CS-R/start", json={"uid": uid, "evse_id": 1})
        assert resp.status_code == 409, (uid, resp.text)
        assert f"id token {uid} cannot start a transaction" in resp.json()["detail"]
    assert await _audit(operator, "CS-R") == []  # refused before anything was sent


async def test_station_passwords_are_masked_in_the_audit_log(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-K16")
    await add_station(operator, "CS-K2X")
    await add_station(operator, "CS-KNEW")
    await seen_connected(committer, "CS-K16", V16, online=False)
    await seen_connected(committer, "CS-K2X", V201, online=False)
    secret = "new-password-0123456789"
    sends = [
        ("CS-K16", "configuration", {"key": "AuthorizationKey", "value": secret}),
        ("CS-K2X", "configuration", {"key": "SecurityCtrlr.BasicAuthPassword", "value": secret}),
        ("CS-K2X", "configuration", {"component": "SecurityCtrlr", "variable": "BasicAuthPassword",
                                     "value": secret}),
        ("CS-K2X", "ocpp/SetVariables", {"setVariableData": [
            {"attributeValue": secret, "component": {"name": "SecurityCtrlr"},
             "variable": {"name": "BasicAuthPassword"}},
            {"attributeValue": "60", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}},
        ]}),
        ("CS-KNEW", "configuration", {"key": "AuthorizationKey", "value": secret}),
    ]  # fmt: skip
    for station_id, path, body in sends:
        resp = await operator.post(f"/stations/{station_id}/{path}", json=body)
        assert resp.status_code == 409, resp.text
    records = [r for sid in ("CS-K16", "CS-K2X", "CS-KNEW") for r in await _audit(operator, sid)]
    assert len(records) == len(sends)
    assert all(secret not in str(r["request"]) for r in records)
    raw = next(
        r
        for r in records
        if r["action"] == "SetVariables" and len(r["request"]["setVariableData"]) == 2
    )
    assert [d["attributeValue"] for d in raw["request"]["setVariableData"]] == ["***", "60"]
