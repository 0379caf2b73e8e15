"""Robustness scenarios 13, 14, 15, 45, 46 (ocpp-robustness.md §6): boot gate, bursts, crossing
calls, time sync and a mixed-version fleet, over real WebSockets and the REST API."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import add_station, add_token, station_view
from tests.e2e.test_robustness_data import (
    VERSIONS,
    boot_payload,
    connect,
    iso,
    now,
    online,
    parse_iso,
    stored_events,
    transaction,
    transactions,
    tx_event,
)


def status_payload(version: str, evse: int, status: str, at: str | None = None) -> dict[str, Any]:
    """A StatusNotification of one connector (1.6 connector N = EVSE N)."""
    if version == "1.6":
        payload: dict[str, Any] = {"connectorId": evse, "errorCode": "NoError", "status": status}
        if at is not None:
            payload["timestamp"] = at
        return payload
    return {
        "timestamp": at or iso(now()),
        "connectorStatus": status,
        "evseId": evse,
        "connectorId": 1,
    }


# --- scenario 13: messages before the boot is Accepted ---------------------------------------


@VERSIONS
async def test_s13_messages_before_accepted_boot_then_stored_once(
    make_joule: MakeJoule, database_url: str, version: str
) -> None:
    """B01.FR.10, B02.FR.09 (TC_B_30): SecurityError while Pending; after Accepted, one copy."""
    joule = await make_joule(unknown_stations="pending")
    api = await api_client(joule)
    sid = f"S13-{version}"
    st = await connect(joule, sid, version)
    assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Pending"
    t0 = now() - timedelta(minutes=2)
    plugged = "Preparing" if version == "1.6" else "Occupied"
    if version == "1.6":
        action = "StartTransaction"
        start: dict[str, Any] = {
            "connectorId": 1,
            "idTag": "S13-TAG",
            "meterStart": 300,
            "timestamp": iso(t0),
        }
    else:
        action = "TransactionEvent"
        start = tx_event("S13-TX", "Started", 0, t0, wh=300, id_token="S13-TAG")

    for name, payload in (
        ("StatusNotification", status_payload(version, 1, plugged)),
        (action, start),
    ):
        frame = await st.call_frame(name, payload)
        assert frame[0] == 4 and frame[2] == "SecurityError", frame
    assert await transactions(api, sid) == []  # nothing stored from a station not let in
    view = await station_view(api, sid)
    assert view["registration"] == "pending" and view["online"] is True  # B02.FR.06: kept open

    await add_token(api, "S13-TAG")
    assert (await api.patch(f"/stations/{sid}", json={"registration": "accepted"})).is_success
    assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Accepted"
    await st.call("StatusNotification", status_payload(version, 1, plugged))
    first = await st.call_frame(action, start)  # the queued message, sent again
    again = await st.call_frame(action, start)  # and retried once more with a new messageId
    assert first[0] == 3 and again[0] == 3 and first[2] == again[2], (first, again)

    items = await transactions(api, sid)
    assert len(items) == 1 and items[0]["meter_start_wh"] == "300"
    if version == "1.6":
        assert first[2]["transactionId"] == items[0]["id"]
    else:
        assert await stored_events(database_url, items[0]["id"]) == [(0, "Started")]
    await st.close()
    await api.aclose()


@VERSIONS
async def test_s13_rejected_station_is_sent_nothing(make_joule: MakeJoule, version: str) -> None:
    """B03.FR.03/07: a Rejected station gets SecurityError and no CALL from the CSMS (409)."""
    joule = await make_joule(unknown_stations="pending")
    api = await api_client(joule)
    sid = f"S13-REJ-{version}"
    st = await connect(joule, sid, version)
    assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Pending"
    assert (await api.patch(f"/stations/{sid}", json={"registration": "rejected"})).is_success
    assert (await st.call("BootNotification", boot_payload(version)))["status"] == "Rejected"

    frame = await st.call_frame("StatusNotification", status_payload(version, 1, "Available"))
    assert frame[0] == 4 and frame[2] == "SecurityError"
    for path, body in (("reset", {"type": "Soft"}), ("ocpp/ClearCache", {})):
        resp = await api.post(f"/stations/{sid}/{path}", json=body)
        assert resp.status_code == 409, resp.text
    await asyncio.sleep(0.1)
    assert st.received_calls == []  # the CSMS initiated nothing
    await st.close()
    await api.aclose()


# --- scenario 14: concurrency burst ---------------------------------------------------------

BURST = 200
METERING = 50
READINGS = 20


async def _first_contact(joule: Joule, sid: str) -> tuple[TestStation, list[Any]]:
    # A generous opening timeout: 200 handshakes at once on a small test machine.
    ws = await ws_connect(
        f"{ocpp_url(joule)}/{sid}",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        open_timeout=30,
        ping_interval=None,
    )
    st = TestStation(ws, sid)
    frame = await st.call_frame(
        "StatusNotification", status_payload("1.6", 1, "Available"), timeout=30
    )
    return st, frame


async def test_s14_burst_of_new_stations_and_meter_values(make_joule: MakeJoule) -> None:
    """Q21, steve#2107: a burst of first messages and of meter values, no CALLERROR, all rows."""
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    contacts = await asyncio.gather(*(_first_contact(joule, f"S14-{n:03d}") for n in range(BURST)))
    frames = [frame for _, frame in contacts]
    assert [f[0] for f in frames] == [3] * BURST, [f for f in frames if f[0] != 3][:3]
    resp = await api.get("/stations", params={"limit": "500"})
    listed = resp.json()
    assert listed["total"] == BURST
    assert all(
        [(c["evse_id"], c["connector_id"], c["status"]) for c in s["connectors"]]
        == [(1, 1, "Available")]
        for s in listed["items"]
    )

    fleet = [st for st, _ in contacts[:METERING]]
    t0 = now() - timedelta(minutes=READINGS + 5)
    await asyncio.gather(*(add_token(api, f"{st.station_id}-TAG") for st in fleet))
    starts = await asyncio.gather(
        *(
            st.call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": f"{st.station_id}-TAG",
                    "meterStart": 0,
                    "timestamp": iso(t0),
                },
            )
            for st in fleet
        )
    )

    async def meter(st: TestStation, tx_id: int) -> list[list[Any]]:
        answers = []
        for k in range(1, READINGS + 1):
            reading = {
                "timestamp": iso(t0 + timedelta(minutes=k)),
                "sampledValue": [
                    {"value": str(100 * k), "measurand": "Energy.Active.Import.Register"}
                ],
            }
            answers.append(
                await st.call_frame(
                    "MeterValues",
                    {"connectorId": 1, "transactionId": tx_id, "meterValue": [reading]},
                    timeout=30,
                )
            )
        return answers

    answers = await asyncio.gather(
        *(meter(st, start["transactionId"]) for st, start in zip(fleet, starts, strict=True))
    )
    assert all(a[0] == 3 for per_station in answers for a in per_station)
    for start in starts:
        tx = await transaction(api, start["transactionId"])
        assert len(tx["meter_values"]) == READINGS, tx["station_id"]
        assert tx["energy_wh"] == 100 * READINGS
    await asyncio.gather(*(st.close() for st, _ in contacts))
    await api.aclose()


# --- scenario 15: a station CALL crossing a CSMS CALL ---------------------------------------


@VERSIONS
async def test_s15_station_call_crossing_a_csms_call(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    """J16/P4 §4.1.1: CALLs of both sides may cross; both are handled, neither times out."""
    sid = f"S15-{version}"
    st = await online(joule, api, sid, version)
    crossed: list[list[Any]] = []

    async def reset(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        # While Joule's Reset is outstanding, the station sends a CALL of its own and waits for it.
        crossed.append(
            await st.call_frame(
                "StatusNotification", status_payload(version, 1, "Unavailable"), timeout=2
            )
        )
        return {"status": "Accepted"}

    st.answers["Reset"] = reset
    resp = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert resp.status_code == 200 and resp.json() == {"status": "Accepted"}, resp.text
    assert len(crossed) == 1 and crossed[0][0] == 3, crossed
    view = await station_view(api, sid)
    assert view["connectors"][0]["status"] == "Unavailable"
    assert [c[2] for c in st.received_calls] == ["Reset"]  # sent once
    await st.close()


# --- scenario 45: heartbeat, time sync and clock skew ---------------------------------------


@VERSIONS
@pytest.mark.parametrize("clock", ["utc", "local"])
async def test_s45_utc_current_time_and_clock_skew(
    joule: Joule, api: httpx.AsyncClient, version: str, clock: str
) -> None:
    """C16 §3.14, B01.FR.06: answers carry UTC currentTime; a clock 3 h off is stored as skew."""
    sid = f"S45-{version}-{clock}"
    await add_station(api, sid, password=None)
    st = await connect(joule, sid, version)
    boot = await st.call("BootNotification", boot_payload(version))
    heartbeat = await st.call("Heartbeat", {})
    for answer in (boot, heartbeat):
        assert answer["currentTime"].endswith("Z"), answer
        assert abs(parse_iso(answer["currentTime"]) - now()) < timedelta(seconds=10)

    station_clock = now() + timedelta(hours=3)
    # "utc": the clock is 3 h fast and says so in UTC; "local": it sends wall time 3 h ahead of
    # UTC without an offset (Q7) and no zone is configured for it — read as UTC, 3 h off.
    stamp = iso(station_clock) if clock == "utc" else station_clock.strftime("%Y-%m-%dT%H:%M:%S")
    frame = await st.call_frame(
        "StatusNotification", status_payload(version, 1, "Available", stamp)
    )
    assert frame[0] == 3, frame
    skew = (await station_view(api, sid))["clock_skew_s"]  # for correcting its times on display
    assert skew is not None and abs(skew - 3 * 3600) < 10, skew
    await st.close()


# --- scenario 46: mixed-version fleet -------------------------------------------------------


async def test_s46_mixed_version_fleet(joule: Joule, api: httpx.AsyncClient) -> None:
    """citrineos#175, Q27: 1.6 connectorId 0 first, beside a 2.0.1 station; both listed."""
    await add_station(api, "S46-16", password=None)
    old = await connect(joule, "S46-16", "1.6")
    frames = [await old.call_frame("StatusNotification", status_payload("1.6", 0, "Available"))]
    frames.append(await old.call_frame("BootNotification", boot_payload("1.6")))
    for evse, status in ((1, "Available"), (2, "Charging")):
        frames.append(
            await old.call_frame("StatusNotification", status_payload("1.6", evse, status))
        )
    new = await online(joule, api, "S46-201", "2.0.1")
    for evse, status in ((1, "Available"), (2, "Occupied")):
        frames.append(
            await new.call_frame("StatusNotification", status_payload("2.0.1", evse, status))
        )
    assert [f[0] for f in frames] == [3] * len(frames), [f for f in frames if f[0] != 3]

    resp = await api.get("/stations", params={"limit": "500"})
    listed = {s["id"]: s for s in resp.json()["items"]}
    assert listed["S46-16"]["ocpp_version"] == "1.6" and listed["S46-16"]["status"] == "Available"
    assert listed["S46-201"]["ocpp_version"] == "2.0.1"

    def connectors(station: dict[str, Any]) -> list[tuple[int, int, str]]:
        return [(c["evse_id"], c["connector_id"], c["status"]) for c in station["connectors"]]

    assert connectors(listed["S46-16"]) == [(1, 1, "Available"), (2, 1, "Charging")]
    assert connectors(listed["S46-201"]) == [(1, 1, "Available"), (2, 1, "Occupied")]
    await old.close()
    await new.close()
