"""A station's histories, written by the real handlers and activity recorder, read over the API."""

from __future__ import annotations

from datetime import timedelta

import httpx

from joule.domain.activity import ActivityRecorder
from joule.domain.station import service as station_service
from joule.kit.clock import FixedClock
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import NOW, add_station, seen_connected, station_says

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def test_message_log_newest_first_with_action_filter(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-LOG")
    clock = FixedClock(NOW)
    recorder = ActivityRecorder(
        committer, clock, touch_last_seen=station_service.touch_last_seen, log_limit=100
    )
    frames = [
        ("in", 2, "m1", "BootNotification", '[2,"m1","BootNotification",{}]'),
        ("out", 3, "m1", "BootNotification", '[3,"m1",{"status":"Accepted"}]'),
        ("in", 2, "m2", "Heartbeat", '[2,"m2","Heartbeat",{}]'),
    ]
    for i, (direction, kind, message_id, action, text) in enumerate(frames):
        clock.set(NOW + timedelta(seconds=i))
        recorder.frame("CS-LOG", direction, kind, message_id, action, text)
    await recorder.flush()
    resp = await viewer.get("/stations/CS-LOG/messages")
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == 3
    assert [m["message_id"] for m in body["items"]] == ["m2", "m1", "m1"]
    newest = body["items"][0]
    assert set(newest) == {"id", "direction", "message_type", "message_id", "action", "frame", "at"}
    assert newest["frame"] == '[2,"m2","Heartbeat",{}]'
    assert newest["at"] == "2026-11-28T09:00:02Z"
    boots = (
        await viewer.get("/stations/CS-LOG/messages", params={"action": "BootNotification"})
    ).json()
    assert [(m["direction"], m["message_type"]) for m in boots["items"]] == [("out", 3), ("in", 2)]
    limited = (await viewer.get("/stations/CS-LOG/messages", params={"limit": 1})).json()
    assert len(limited["items"]) == 1 and limited["total"] == 3


async def test_heartbeats_are_logged_once_a_minute_per_station(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    """A heartbeat flood keeps one logged exchange a minute; other frames are all kept."""
    await add_station(operator, "CS-HB")
    clock = FixedClock(NOW)
    recorder = ActivityRecorder(
        committer, clock, touch_last_seen=station_service.touch_last_seen, log_limit=100
    )

    def exchange(second: int, message_id: str, action: str = "Heartbeat") -> None:
        clock.set(NOW + timedelta(seconds=second))
        recorder.frame("CS-HB", "in", 2, message_id, action, f'[2,"{message_id}","{action}",{{}}]')
        recorder.frame("CS-HB", "out", 3, message_id, action, f'[3,"{message_id}",{{}}]')

    exchange(0, "h0")  # logged: the first
    exchange(10, "h10")  # not: within a minute of h0
    exchange(20, "s20", "StatusNotification")  # every other action is logged
    exchange(59, "h59")  # not
    exchange(60, "h60")  # logged: a minute after h0
    recorder.frame("CS-HB", "in", 2, "h61", "Heartbeat", '[2,"h61","Heartbeat",{}]')
    recorder.frame("CS-HB", "out", 4, "h61", None, '[4,"h61","InternalError","",{}]')
    await recorder.flush()
    body = (await viewer.get("/stations/CS-HB/messages", params={"limit": 50})).json()
    logged = [(m["message_id"], m["direction"]) for m in reversed(body["items"])]
    assert logged == [
        ("h0", "in"),
        ("h0", "out"),
        ("s20", "in"),
        ("s20", "out"),
        ("h60", "in"),
        ("h60", "out"),
        ("h61", "in"),  # an error is always logged, with the CALL it answers (ADR 0019)
        ("h61", "out"),
    ]


async def test_routine_meter_values_once_a_minute_and_every_exchange_that_is_not(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    """MeterValues like Heartbeat, each on its own clock; a repaired frame, an error, a frame
    that came between CALL and answer and an unanswered CALL at stop are always logged."""
    await add_station(operator, "CS-MV")
    clock = FixedClock(NOW)
    recorder = ActivityRecorder(
        committer, clock, touch_last_seen=station_service.touch_last_seen, log_limit=100
    )

    def call(second: int, message_id: str, action: str = "MeterValues") -> None:
        clock.set(NOW + timedelta(seconds=second))
        recorder.frame("CS-MV", "in", 2, message_id, action, f'[2,"{message_id}","{action}",{{}}]')

    def answer(message_id: str, *, repaired: bool = False) -> None:
        text = f'[3,"{message_id}",{{}}]'
        recorder.frame("CS-MV", "out", 3, message_id, "MeterValues", text, repaired)

    call(0, "m0")
    answer("m0")  # logged: the first
    call(1, "h1", "Heartbeat")
    answer("h1")  # logged: the first heartbeat (its own clock)
    call(5, "m5")
    answer("m5")  # not
    call(10, "m10")
    answer("m10", repaired=True)  # logged: the frame needed a repair
    call(15, "m15")
    await recorder.flush()  # a flush between a held CALL and its answer decides nothing
    answer("m15")  # not
    call(20, "m20")
    recorder.frame("CS-MV", "out", 2, "c1", "Reset", '[2,"c1","Reset",{"type":"Soft"}]')
    answer("m20")  # logged: a CSMS CALL went out in between, the log keeps the order
    recorder.frame("CS-MV", "in", 3, "c1", None, '[3,"c1",{"status":"Accepted"}]')
    call(30, "m30")  # never answered: logged when the recorder stops (a drain)
    await recorder.stop()
    body = (await viewer.get("/stations/CS-MV/messages", params={"limit": 50})).json()
    logged = [(m["message_id"], m["direction"]) for m in reversed(body["items"])]
    assert logged == [
        ("m0", "in"),
        ("m0", "out"),
        ("h1", "in"),
        ("h1", "out"),
        ("m10", "in"),
        ("m10", "out"),
        ("m20", "in"),
        ("c1", "out"),
        ("m20", "out"),
        ("c1", "in"),
        ("m30", "in"),
    ]


async def test_security_events_from_both_versions(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-SEC16")
    await add_station(operator, "CS-SEC2")
    await station_says(
        committer,
        "CS-SEC16",
        V16,
        "SecurityEventNotification",
        {
            "type": "InvalidCentralSystemCertificate",
            "timestamp": "2026-11-28T08:00:00Z",
            "techInfo": "chain",
        },
    )
    await station_says(
        committer,
        "CS-SEC16",
        V16,
        "SecurityEventNotification",
        {"type": "FailedToAuthenticateAtCentralSystem", "timestamp": "2026-11-28T08:05:00Z"},
    )
    await station_says(
        committer,
        "CS-SEC2",
        V201,
        "SecurityEventNotification",
        {"type": "FirmwareUpdated", "timestamp": "2026-11-28T08:10:00Z"},
    )
    resp = await operator.get("/stations/CS-SEC16/security-events")
    assert resp.status_code == 200
    items = resp.json()["items"]
    assert [e["type"] for e in items] == [
        "FailedToAuthenticateAtCentralSystem",
        "InvalidCentralSystemCertificate",
    ]
    assert items[1]["tech_info"] == "chain"
    assert items[1]["timestamp"] == "2026-11-28T08:00:00Z"
    critical = await operator.get("/stations/CS-SEC16/security-events", params={"critical": "true"})
    assert [e["type"] for e in critical.json()["items"]] == ["InvalidCentralSystemCertificate"]
    other = (await operator.get("/stations/CS-SEC2/security-events")).json()
    assert [e["type"] for e in other["items"]] == ["FirmwareUpdated"]


async def test_status_history_intervals(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-HIST")
    for minute, connector, status in (
        (0, 1, "Available"),
        (10, 1, "Preparing"),
        (20, 1, "Charging"),
        (5, 2, "Available"),
        (15, 0, "Available"),
    ):
        await station_says(
            committer,
            "CS-HIST",
            V16,
            "StatusNotification",
            {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": status,
                "timestamp": f"2026-11-28T08:{minute:02d}:00Z",
            },
        )
    resp = await operator.get("/stations/CS-HIST/status-history", params={"evse_id": 1})
    assert resp.status_code == 200
    items = resp.json()["items"]
    assert [(i["status"], i["started_at"], i["ended_at"]) for i in items] == [
        ("Charging", "2026-11-28T08:20:00Z", None),
        ("Preparing", "2026-11-28T08:10:00Z", "2026-11-28T08:20:00Z"),
        ("Available", "2026-11-28T08:00:00Z", "2026-11-28T08:10:00Z"),
    ]
    assert set(items[0]) == {
        "evse_id",
        "connector_id",
        "status",
        "error_code",
        "started_at",
        "ended_at",
    }
    whole = (await operator.get("/stations/CS-HIST/status-history", params={"evse_id": 0})).json()
    assert [(i["evse_id"], i["connector_id"]) for i in whole["items"]] == [(0, 0)]
    everything = (await operator.get("/stations/CS-HIST/status-history")).json()
    assert everything["total"] == 5
    window = await operator.get(
        "/stations/CS-HIST/status-history",
        params={
            "evse_id": 1,
            "since": "2026-11-28T09:12:00+01:00",
            "until": "2026-11-28T08:15:00Z",
        },
    )
    # Overlapping 08:12–08:15: only Preparing (08:10–08:20); the offset is honoured.
    assert [i["status"] for i in window.json()["items"]] == ["Preparing"]
    naive = await operator.get(
        "/stations/CS-HIST/status-history", params={"since": "2026-11-28T08:00:00"}
    )
    assert naive.status_code == 422  # times need an offset


async def test_boot_history(operator: httpx.AsyncClient, committer: GroupCommitter) -> None:
    await add_station(operator, "CS-BOOT", registration="pending")
    boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "DC50"}}
    answer = await station_says(committer, "CS-BOOT", V201, "BootNotification", boot)
    assert answer["status"] == "Pending"
    await operator.patch("/stations/CS-BOOT", json={"registration": "accepted"})
    later = NOW + timedelta(minutes=1)
    answer = await station_says(committer, "CS-BOOT", V201, "BootNotification", boot, at=later)
    assert answer["status"] == "Accepted"
    resp = await operator.get("/stations/CS-BOOT/boots")
    assert resp.status_code == 200
    items = resp.json()["items"]
    assert [(b["status"], b["reason"]) for b in items] == [
        ("Accepted", "PowerUp"),
        ("Pending", "PowerUp"),
    ]
    assert items[0]["at"] == "2026-11-28T09:01:00Z"
    assert items[0]["payload"]["chargingStation"]["model"] == "DC50"
    station = (await operator.get("/stations/CS-BOOT")).json()
    assert station["boot_status"] == "Accepted" and station["vendor"] == "Acme"


async def test_histories_of_an_unknown_station_are_404(viewer: httpx.AsyncClient) -> None:
    for path in ("messages", "security-events", "status-history", "boots", "commands"):
        resp = await viewer.get(f"/stations/NOPE/{path}")
        assert resp.status_code == 404, path
        assert resp.json()["detail"] == "station NOPE does not exist"


async def test_connected_version_is_shown(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-201")
    await seen_connected(committer, "CS-201", V201, online=False)
    body = (await operator.get("/stations/CS-201")).json()
    assert body["ocpp_version"] == "2.0.1" and body["online"] is False
