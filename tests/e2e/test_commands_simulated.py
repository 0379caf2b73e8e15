"""The first-class commands against Joule's simulated stations (1.6 and 2.0.1): real charge
points that act on what they are told, so what follows each answer can be checked too —
a reservation used, expired or cancelled, a profile that changes the composite schedule,
display messages and customer data reported back under the requestId Joule chose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from joule.ocpp.versions import OcppVersion
from joule.simulator import SimulatedStation, StationSpec
from joule.simulator.handlers import VENDOR_ID
from joule.simulator.model import LAYOUTS
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.test_charging_session import eventually

V16, V201 = OcppVersion.V16, OcppVersion.V201


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.fixture
async def sim(
    make_joule: MakeJoule, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[httpx.AsyncClient, SimulatedStation]]:
    version: OcppVersion = request.param
    joule = await make_joule(unknown_stations="accept", call_timeout_s=3.0)
    api = await api_client(joule)
    spec = StationSpec(f"SIMCMD-{version.value}", version=version, evses=LAYOUTS["ac3x2"])
    station = SimulatedStation(spec, ocpp_url(joule), tick_s=0.2, traffic=False)
    await station.start()
    await station.wait_booted(10)
    yield api, station
    await station.stop(drain_s=2)
    assert station.counters.callerrors_received == 0 and station.counters.schema_failures == 0
    await api.aclose()


async def reservation(api: httpx.AsyncClient, sid: str, rid: int) -> dict[str, Any]:
    r = await api.get(f"/stations/{sid}/reservations")
    assert r.status_code == 200, r.text
    found: dict[str, Any] = next(x for x in r.json() if x["id"] == rid)
    return found


@pytest.mark.parametrize("sim", [V16, V201], ids=str, indirect=True)
async def test_reservation_used_expired_cancelled(
    sim: tuple[httpx.AsyncClient, SimulatedStation],
) -> None:
    api, station = sim
    sid = station.station_id
    assert (await api.post("/tokens", json={"uid": "RES-1"})).status_code == 201

    # Reserved, then used by its holder: the start carries the reservationId (H03 / C16 §5.13).
    r = await api.post(
        f"/stations/{sid}/reservations", json={"uid": "RES-1", "expiry": soon(3600), "evse_id": 1}
    )
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    used_id = r.json()["reservationId"]
    assert (await reservation(api, sid, used_id))["status"] == "Accepted"
    station.plug_in(1, ev="sedan", soc=40)
    assert await station.present_token(1, "RES-1")

    async def used() -> dict[str, Any] | None:
        found = await reservation(api, sid, used_id)
        return found if found["status"] == "Used" else None

    row = await eventually(used)
    tx = (await api.get(f"/transactions/{row['transaction_id']}")).json()
    assert tx["station_id"] == sid and tx["evse_id"] == 1

    # The same EVSE is busy now: the station says so and the reservation is kept as answered.
    r = await api.post(
        f"/stations/{sid}/reservations", json={"uid": "RES-1", "expiry": soon(3600), "evse_id": 1}
    )
    assert r.status_code == 200 and r.json()["status"] == "Occupied"
    assert (await reservation(api, sid, r.json()["reservationId"]))["status"] == "Occupied"

    # Expired: 2.x tells us (ReservationStatusUpdate); 1.6 only by the clock.
    r = await api.post(
        f"/stations/{sid}/reservations", json={"uid": "RES-1", "expiry": soon(1.5), "evse_id": 2}
    )
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    expiring = r.json()["reservationId"]

    async def expired() -> bool:
        return (await reservation(api, sid, expiring))["status"] == "Expired"

    await eventually(expired)
    active = (await api.get(f"/stations/{sid}/reservations", params={"active": True})).json()
    assert all(x["id"] != expiring for x in active)

    # Cancelled by the operator (once the station's own clock has let the expired one go:
    # Joule's 1.6 view expires by the CSMS clock, which may be a tick ahead).
    async def released() -> bool:
        return station.chargepoint.evses[2].reservation is None

    await eventually(released)
    r = await api.post(
        f"/stations/{sid}/reservations", json={"uid": "RES-1", "expiry": soon(3600), "evse_id": 2}
    )
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    cancel_id = r.json()["reservationId"]
    r = await api.delete(f"/stations/{sid}/reservations/{cancel_id}")
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}, r.text
    assert (await reservation(api, sid, cancel_id))["status"] == "Cancelled"
    r = await api.delete(f"/stations/{sid}/reservations/{cancel_id}")
    assert r.status_code == 200 and r.json() == {"status": "Rejected"}  # the station has none
    r = await api.delete(f"/stations/{sid}/reservations/999999")
    assert r.status_code == 404
    r = await api.post(
        f"/stations/{sid}/reservations", json={"uid": "RES-1", "expiry": soon(-60), "evse_id": 2}
    )
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = await api.post(
        f"/stations/{sid}/reservations",
        json={"uid": "RES-1", "expiry": "2030-01-01T00:00:00", "evse_id": 2},
    )
    assert r.status_code == 422  # a time without an offset is ambiguous


@pytest.mark.parametrize("sim", [V16, V201], ids=str, indirect=True)
async def test_profile_set_seen_in_the_composite_schedule_then_cleared(
    sim: tuple[httpx.AsyncClient, SimulatedStation],
) -> None:
    api, station = sim
    sid = station.station_id
    v16 = station.spec.version is V16
    schedule: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
    }
    profile: dict[str, Any] = {
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
    }
    if v16:
        profile |= {"chargingProfileId": 21, "chargingSchedule": schedule}
    else:
        profile |= {"id": 21, "chargingSchedule": [{"id": 1, **schedule}]}
    r = await api.post(
        f"/stations/{sid}/charging-profiles", json={"evse_id": 1, "profile": profile}
    )
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}, r.text

    async def limit() -> Any:
        r = await api.get(
            f"/stations/{sid}/composite-schedule",
            params={"evse_id": 1, "duration": 600, "unit": "A"},
        )
        assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
        answer = r.json()
        found = answer["chargingSchedule"] if v16 else answer["schedule"]
        return found["chargingSchedulePeriod"][0]["limit"]

    assert await limit() == 10
    # The other version's shape is refused before anything is sent.
    other = {"id": 22, **{k: v for k, v in profile.items() if k != "chargingProfileId"}}
    if not v16:
        other = {"chargingProfileId": 22, **{k: v for k, v in profile.items() if k != "id"}}
        other["chargingSchedule"] = schedule
    r = await api.post(f"/stations/{sid}/charging-profiles", json={"evse_id": 1, "profile": other})
    assert r.status_code == 422 and "schema" in r.json()["detail"], r.text
    r = await api.delete(
        f"/stations/{sid}/charging-profiles",
        params={"evse_id": 1, "purpose": "TxDefaultProfile", "stack_level": 1},
    )
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}, r.text
    assert await limit() != 10
    r = await api.delete(f"/stations/{sid}/charging-profiles", params={"id": 21})
    assert r.status_code == 200 and r.json() == {"status": "Unknown"}
    r = await api.delete(f"/stations/{sid}/charging-profiles", params={"purpose": "Nonsense"})
    assert r.status_code == 422


@pytest.mark.parametrize("sim", [V16, V201], ids=str, indirect=True)
async def test_maintenance_commands_on_a_simulated_station(
    sim: tuple[httpx.AsyncClient, SimulatedStation],
) -> None:
    api, station = sim
    sid = station.station_id
    v16 = station.spec.version is V16
    r = await api.post(f"/stations/{sid}/clear-cache")
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}
    assert station.chargepoint.auth.clears == 1
    r = await api.get(f"/stations/{sid}/local-list-version")
    assert r.status_code == 200 and r.json() == (
        {"listVersion": 0} if v16 else {"versionNumber": 0}
    )
    r = await api.post(
        f"/stations/{sid}/data-transfer",
        json={"vendor_id": VENDOR_ID, "message_id": "Echo", "data": "ping"},
    )
    assert r.status_code == 200 and r.json() == {"status": "Accepted", "data": "ping"}
    r = await api.post(f"/stations/{sid}/data-transfer", json={"vendor_id": "other"})
    assert r.status_code == 200 and r.json() == {"status": "UnknownVendorId"}
    r = await api.post(
        f"/stations/{sid}/diagnostics",
        json={"location": "ftp://logs.example/up/", "log_type": "SecurityLog"},
    )
    # 1.6 security log: SW16 GetLog, with a requestId like 2.x.
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    assert isinstance(r.json()["requestId"], int)
    r = await api.post(
        f"/stations/{sid}/firmware",
        json={"location": "https://fw.example/2.0.bin", "retrieve_at": soon(3600)},
    )
    assert r.status_code == 200, r.text
    assert ("requestId" in r.json()) is (not v16)
    r = await api.post(f"/stations/{sid}/base-report", json={"report_base": "FullInventory"})
    assert r.status_code == 200, r.text
    if v16:
        keys = {k["key"] for k in r.json()["configurationKey"]}
        assert "HeartbeatInterval" in keys
    else:
        assert r.json()["status"] == "Accepted"
        assert isinstance(r.json()["requestId"], int)
    r = await api.post(f"/stations/{sid}/base-report", json={"report_base": "SummaryInventory"})
    assert r.status_code == (422 if v16 else 200), r.text


@pytest.mark.parametrize("sim", [V201], ids=str, indirect=True)
async def test_variables_display_messages_and_customer_information(
    sim: tuple[httpx.AsyncClient, SimulatedStation],
) -> None:
    api, station = sim
    sid = station.station_id
    hb = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
    r = await api.post(
        f"/stations/{sid}/variables/set", json={"variables": [{**hb, "value": "77"}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["setVariableResult"][0]["attributeStatus"] == "Accepted"
    r = await api.post(f"/stations/{sid}/variables/get", json={"variables": [hb]})
    assert r.json()["getVariableResult"][0]["attributeValue"] == "77"

    for n in range(1, 7):
        r = await api.post(
            f"/stations/{sid}/display-messages",
            json={"id": n, "content": f"Message {n}", "priority": "NormalCycle", "language": "en"},
        )
        assert r.status_code == 200 and r.json() == {"status": "Accepted", "id": n}, r.text
    r = await api.post(
        f"/stations/{sid}/display-messages", json={"content": "<b>x</b>", "format": "HTML"}
    )
    assert r.json()["status"] == "NotSupportedMessageFormat" and isinstance(r.json()["id"], int)
    # GetDisplayMessages: the answer, then six messages in two NotifyDisplayMessages parts.
    r = await api.get(f"/stations/{sid}/display-messages")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["status"] == "Accepted" and shown["complete"] is True
    assert sorted(m["id"] for m in shown["messages"]) == [1, 2, 3, 4, 5, 6]
    assert shown["messages"][0]["message"]["content"].startswith("Message")
    r = await api.get(f"/stations/{sid}/display-messages", params={"id": [2, 5]})
    assert sorted(m["id"] for m in r.json()["messages"]) == [2, 5]
    r = await api.delete(f"/stations/{sid}/display-messages/2")
    assert r.json() == {"status": "Accepted"}
    r = await api.delete(f"/stations/{sid}/display-messages/2")
    assert r.json() == {"status": "Unknown"}
    r = await api.get(f"/stations/{sid}/display-messages", params={"id": 2})
    assert r.json()["status"] == "Unknown" and r.json()["messages"] == []

    # Customer information: requestId now, the station's report parts afterwards.
    assert (await api.post("/tokens", json={"uid": "CUST-9"})).status_code == 201
    station.plug_in(1)
    assert await station.present_token(1, "CUST-9")  # the station now knows the token
    r = await api.post(
        f"/stations/{sid}/customer-information", json={"uid": "CUST-9", "report": True}
    )
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    request_id = r.json()["requestId"]

    async def report() -> dict[str, Any] | None:
        got = await api.get(f"/stations/{sid}/customer-information/{request_id}")
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body if body["complete"] else None

    body = await eventually(report)
    assert "CUST-9" in body["data"] and body["parts"] == 1
    r = await api.get(f"/stations/{sid}/customer-information/12345")
    assert r.json() == {"requestId": 12345, "data": "", "parts": 0, "complete": False}
    r = await api.get("/stations/NOPE/customer-information/1")
    assert r.status_code == 404
    r = await api.post(
        f"/stations/{sid}/customer-information",
        json={"uid": "CUST-9", "customer_identifier": "C-9"},
    )
    assert r.status_code == 422 and "exactly one" in r.text
