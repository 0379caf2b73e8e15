"""Who may connect: Basic auth (SP1), the unknown-station policies, subprotocols, station ids."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, station_view


def status_of(exc: InvalidStatus) -> int:
    return int(exc.response.status_code)


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_basic_auth_right_wrong_missing(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    await add_station(api, "AUTH-1")
    url = ocpp_url(joule)
    st = await TestStation.connect(url, "AUTH-1", subprotocols=[version], password=PASSWORD)
    assert st.subprotocol == version
    await st.close()
    bad_headers = [
        {"Authorization": "Basic " + base64.b64encode(b"AUTH-1:wrong-password-0000").decode()},
        {},  # missing
        {
            "Authorization": "Basic " + base64.b64encode(b"SOMEONE:" + PASSWORD.encode()).decode()
        },  # user != id
        {"Authorization": "Bearer " + PASSWORD},
        {
            "Authorization": "Basic " + base64.b64encode(f"AUTH-1:{PASSWORD} ".encode()).decode()
        },  # trailing space
        {"Authorization": "Basic !!!notbase64"},
    ]
    for headers in bad_headers:
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(url, "AUTH-1", subprotocols=[version], headers=headers)
        assert status_of(info.value) == 401, headers
        assert "Basic" in (info.value.response.headers.get("WWW-Authenticate") or "")
    # The refusals are audited, without the password.
    resp = await api.get("/stations/AUTH-1")
    assert resp.status_code == 200


async def test_failed_logins_are_throttled(make_joule: MakeJoule) -> None:
    joule = await make_joule(auth_failures_before_throttle=3)
    api = await api_client(joule)
    await add_station(api, "THROTTLE-1")
    bad = {"Authorization": "Basic " + base64.b64encode(b"THROTTLE-1:nope-nope-nope-nope").decode()}
    codes = []
    for _ in range(5):
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(ocpp_url(joule), "THROTTLE-1", headers=bad)
        codes.append(status_of(info.value))
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    # Throttled means even the right password waits out the window (CVE-2026-24445).
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(ocpp_url(joule), "THROTTLE-1", password=PASSWORD)
    assert status_of(info.value) == 429
    await api.aclose()


async def test_unknown_station_reject(joule: Joule) -> None:
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(ocpp_url(joule), "NOPE")
    assert status_of(info.value) == 404  # J16 §3.2, scenario 30


async def test_unknown_station_pending_then_approved(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="pending")
    api = await api_client(joule)
    st = await TestStation.connect(ocpp_url(joule), "NEWCOMER", subprotocols=["ocpp1.6"])
    boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"})
    assert boot["status"] == "Pending"
    # B02.FR.09: nothing but BootNotification until Accepted; the socket stays open (B02.FR.06).
    frame = await st.call_frame(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    )
    assert frame[0] == 4 and frame[2] == "SecurityError"
    view = await station_view(api, "NEWCOMER")
    assert view["registration"] == "pending" and view["online"] is True
    resp = await api.patch("/stations/NEWCOMER", json={"registration": "accepted"})
    assert resp.status_code == 200, resp.text
    boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"})
    assert boot["status"] == "Accepted"
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    )
    await st.close()
    await api.aclose()


async def test_unknown_station_accept(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    st = await TestStation.connect(ocpp_url(joule), "AUTO-1", subprotocols=["ocpp2.0.1"])
    boot = await st.call(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "B"}},
    )
    assert boot["status"] == "Accepted"
    view = await station_view(api, "AUTO-1")
    assert view["registration"] == "accepted" and view["vendor"] == "A"
    await st.close()
    await api.aclose()


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp0.1", "ocpp1.6"], "ocpp1.6"),
        (["ocpp2.1"], "ocpp2.1"),
        (["OCPP1.6"], "OCPP1.6"),
    ],
)
async def test_subprotocol_negotiation(
    make_joule: MakeJoule, offered: list[str], expected: str
) -> None:
    joule = await make_joule(unknown_stations="accept")
    st = await TestStation.connect(ocpp_url(joule), "SUBP-1", subprotocols=offered)
    assert st.subprotocol == expected
    await st.close()


async def test_no_common_subprotocol_refused(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="accept")
    for offered in (["ocpp0.1"], ["mqtt"]):
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(ocpp_url(joule), "SUBP-2", subprotocols=offered)
        assert status_of(info.value) == 400


async def test_no_subprotocol_uses_per_station_assumption(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    # Q1: some chargers send no Sec-WebSocket-Protocol; opt-in per station.
    resp = await api.post("/stations", json={"id": "GRIZZL-E", "assume_subprotocol": "ocpp1.6"})
    assert resp.status_code == 201, resp.text
    from websockets.asyncio.client import connect

    ws = await connect(f"{ocpp_url(joule)}/GRIZZL-E", open_timeout=5)
    await ws.send('[2,"1","Heartbeat",{}]')
    answer = await asyncio.wait_for(ws.recv(), 5)
    assert answer.startswith('[3,"1",{"currentTime"')
    await ws.close()
    await add_station(api, "NOT-ASSUMING", password=None)
    with pytest.raises(InvalidStatus) as info:
        await connect(f"{ocpp_url(joule)}/NOT-ASSUMING", open_timeout=5)
    assert status_of(info.value) == 400


@pytest.mark.parametrize(
    ("path", "station_id"),
    [
        ("/ocpp/RDAM%20123", "RDAM 123"),
        ("/some/prefix/CP-PATH", "CP-PATH"),
        ("/ocpp/CP-SLASH/", "CP-SLASH"),
        ("/ocpp/CP-QUERY?x=1", "CP-QUERY"),
        ("/ocpp/" + "A" * 48, "A" * 48),
    ],
)
async def test_station_id_from_url(make_joule: MakeJoule, path: str, station_id: str) -> None:
    from websockets.asyncio.client import connect

    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    ws = await connect(
        f"ws://127.0.0.1:{joule.ocpp_port}{path}", subprotocols=["ocpp1.6"], open_timeout=5
    )  # type: ignore[list-item]
    await ws.send('[2,"1","Heartbeat",{}]')
    await asyncio.wait_for(ws.recv(), 5)
    from urllib.parse import quote

    assert (await api.get(f"/stations/{quote(station_id)}")).status_code == 200
    await ws.close()
    await api.aclose()


@pytest.mark.parametrize("path", ["/ocpp/" + "A" * 49, "/ocpp/CP%3A1", "/", "//"])
async def test_bad_station_ids_refused(make_joule: MakeJoule, path: str) -> None:
    from websockets.asyncio.client import connect

    joule = await make_joule(unknown_stations="accept")
    with pytest.raises(InvalidStatus) as info:
        await connect(
            f"ws://127.0.0.1:{joule.ocpp_port}{path}", subprotocols=["ocpp1.6"], open_timeout=5
        )  # type: ignore[list-item]
    assert status_of(info.value) == 404
