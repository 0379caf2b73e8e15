"""Bad payloads and encodings over real sockets (ocpp-robustness.md §6, scenarios 23 and 29).

Schema violations get the CALLERROR code of their kind with the field path in errorDetails, in
each version's spelling; invalid UTF-8 closes with 1007, binary frames with 1003, and a non-ASCII
idTag is handled like any other. After each bad message the connection must still serve a
Heartbeat.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import add_station, add_token, eventually, station_view
from tests.e2e.test_robustness_input import (
    BOOT,
    OP_TEXT,
    VERSIONS,
    RawWebSocket,
    assert_alive,
    assert_call_error,
    online_station,
    port_of,
)

# --- 23: schema violations by kind ---------------------------------------------------------

_STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
_STATUS_201 = {
    "timestamp": "2026-11-28T08:00:00Z",
    "connectorStatus": "Available",
    "evseId": 1,
    "connectorId": 1,
}
_FAULTD_201 = {**_STATUS_201, "connectorStatus": "Faultd"}
_LONG_TOKEN_201 = {"idToken": "T" * 37, "type": "ISO14443"}
_EVENT_201 = {"generatedAt": "2026-11-28T08:00:00Z", "seqNo": 0, "eventData": []}

OCCURENCE_16 = "OccurenceConstraintViolation"  # sic: J16 errata §5.1 "do not fix"
OCCURRENCE = "OccurrenceConstraintViolation"  # 2.0.1: the spelling of the P4 §4.3 text
TYPE = "TypeConstraintViolation"
PROPERTY = "PropertyConstraintViolation"

# (version, action, payload, code, path in errorDetails)
SCHEMA_VIOLATIONS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("1.6", "Authorize", {}, OCCURENCE_16, "data.idTag"),
    ("1.6", "StatusNotification", {**_STATUS_16, "connectorId": "1"}, TYPE, "data.connectorId"),
    ("1.6", "StatusNotification", {**_STATUS_16, "status": "Faultd"}, PROPERTY, "data.status"),
    ("1.6", "Authorize", {"idTag": "T" * 21}, TYPE, "data.idTag"),
    ("1.6", "MeterValues", {"connectorId": 1, "meterValue": []}, PROPERTY, "data.meterValue"),
    ("2.0.1", "Authorize", {}, OCCURRENCE, "data.idToken"),
    ("2.0.1", "Authorize", {"idToken": {"type": "ISO14443"}}, OCCURRENCE, "data.idToken.idToken"),
    ("2.0.1", "StatusNotification", {**_STATUS_201, "evseId": "1"}, TYPE, "data.evseId"),
    ("2.0.1", "StatusNotification", _FAULTD_201, PROPERTY, "data.connectorStatus"),
    ("2.0.1", "Authorize", {"idToken": _LONG_TOKEN_201}, TYPE, "data.idToken.idToken"),
    ("2.0.1", "MeterValues", {"evseId": 1, "meterValue": []}, PROPERTY, "data.meterValue"),
    ("2.0.1", "NotifyEvent", _EVENT_201, PROPERTY, "data.eventData"),
]


async def test_s23_schema_violations_by_kind(joule: Joule, api: httpx.AsyncClient) -> None:
    stations = {v: await online_station(joule, api, f"S23-{v}", v) for v in VERSIONS}
    for version, action, payload, code, path in SCHEMA_VIOLATIONS:
        st = stations[version]
        frame = await st.call_frame(action, payload)
        details = assert_call_error(frame, frame[1], code)
        assert details.get("path") == path, (version, action, details)
        await assert_alive(st)
    for st in stations.values():
        await st.close()


# --- 29: encoding and frame types ------------------------------------------------------


async def _invalid_utf8_closes_1007(joule: Joule, api: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        sid = f"S29-UTF8-{version}"
        await add_station(api, sid, password=None)
        ws = await RawWebSocket.open(port_of(joule), f"/ocpp/{sid}", subprotocol=f"ocpp{version}")
        frame = await ws.call("s29-1", "BootNotification", BOOT[version])
        assert frame[0] == 3 and frame[2]["status"] == "Accepted"
        # A text frame that is not UTF-8 (a lone continuation byte, an overlong '/'):
        await ws.send_frame(OP_TEXT, b'[2,"s29-2","Authorize",{"idTag":"\x80\xc0\xaf"}]')
        assert await ws.wait_closed() == 1007  # RFC 6455 §8.1; J16/P4 §4.1.2: UTF-8 text
        # The station reconnects at once and is served.
        again = await TestStation.connect(ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"])
        await assert_alive(again)
        await again.close()


async def _binary_frame_closes_1003(joule: Joule, api: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        st = await online_station(joule, api, f"S29-BIN-{version}", version)
        # Valid JSON in a binary frame: OCPP-J is text only (J16 §4.1.2); documented: close 1003.
        await st.send_raw(b'[2,"s29-b","Heartbeat",{}]')
        await asyncio.wait_for(st.ws.wait_closed(), 5)
        assert st.ws.close_code == 1003

        async def offline(sid: str = st.station_id) -> bool:
            return (await station_view(api, sid))["online"] is False

        await eventually(offline)


async def _non_ascii_id_tag(joule: Joule, api: httpx.AsyncClient) -> None:
    uid = "Ünïcødé-€-タグ"  # 13 characters (24 UTF-8 bytes): within 1.6 idTag's 20 characters
    await add_token(api, uid)
    resp = await api.get("/tokens/" + uid)
    assert resp.status_code == 200 and resp.json()["uid"] == uid
    for version in VERSIONS:
        st = await online_station(joule, api, f"S29-NA-{version}", version)
        if version == "1.6":
            answer = await st.call("Authorize", {"idTag": uid})
            assert answer["idTagInfo"]["status"] == "Accepted"
            unknown = await st.call("Authorize", {"idTag": "Ünknøwn"})
            assert unknown["idTagInfo"]["status"] == "Invalid"
        else:
            token = {"idToken": uid, "type": "ISO14443"}
            answer = await st.call("Authorize", {"idToken": token})
            assert answer["idTokenInfo"]["status"] == "Accepted"
            unknown = await st.call("Authorize", {"idToken": {**token, "idToken": "Ünknøwn"}})
            assert unknown["idTokenInfo"]["status"] in ("Invalid", "Unknown")
        await assert_alive(st)
        await st.close()


async def test_s29_encoding_and_frame_types(joule: Joule, api: httpx.AsyncClient) -> None:
    await _invalid_utf8_closes_1007(joule, api)
    await _binary_frame_closes_1003(joule, api)
    await _non_ascii_id_tag(joule, api)
