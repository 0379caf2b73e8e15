"""Stations: registration, the contract's station shape, filters, paging and changes."""

from __future__ import annotations

from typing import Any

import httpx

from joule.kit.passwords import verify_password
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import Station
from joule.storage.uow import UnitOfWork
from tests.api.conftest import STATION_PASSWORD, add_station, seen_connected, station_says

STATION_FIELDS = {
    "id",
    "online",
    "ocpp_version",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "last_seen",
    "registration",
    "boot_status",
    "security_profile",
    "status",
    "error_code",
    "connectors",
}
CONNECTOR_FIELDS = {"evse_id", "connector_id", "status", "error_code", "info", "status_at"}


async def _stored(committer: GroupCommitter, station_id: str) -> Station:
    async def work(uow: UnitOfWork) -> Station:
        station = await uow.session.get(Station, station_id)
        assert station is not None
        return station

    return await committer.read(work)


async def test_register_with_password_defaults_to_profile_1(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    body = await add_station(operator, "CS-PW", password=STATION_PASSWORD)
    assert set(body) >= STATION_FIELDS
    assert body["id"] == "CS-PW"
    assert body["security_profile"] == 1
    assert body["registration"] == "accepted"
    assert body["online"] is False and body["connectors"] == []
    assert body["has_password"] is True
    assert "password" not in body and "password_hash" not in body
    stored = await _stored(committer, "CS-PW")
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert STATION_PASSWORD not in stored.password_hash
    assert verify_password(stored.password_hash, STATION_PASSWORD)


async def test_register_without_password_defaults_to_profile_0(operator: httpx.AsyncClient) -> None:
    body = await add_station(operator, "CS-LAB")
    assert body["security_profile"] == 0 and body["has_password"] is False


async def test_register_with_every_option(operator: httpx.AsyncClient) -> None:
    site = await operator.post(
        "/sites", json={"id": "depot", "name": "Depot", "timezone": "Europe/Berlin"}
    )
    assert site.status_code == 201, site.text
    body = await add_station(
        operator,
        "CS-ALL",
        password=STATION_PASSWORD,
        security_profile=2,
        registration="pending",
        site_id="depot",
        timezone="Europe/Paris",
        assume_subprotocol="ocpp1.6",
        lenient=True,
    )
    assert body["security_profile"] == 2
    assert body["registration"] == "pending"
    assert body["site_id"] == "depot"
    assert body["timezone"] == "Europe/Paris"
    assert body["assume_subprotocol"] == "ocpp1.6"
    assert body["lenient"] is True


async def test_bad_station_fields_are_422(operator: httpx.AsyncClient) -> None:
    cases: list[dict[str, Any]] = [
        {"id": ""},
        {"id": "X" * 49},
        {"id": "CS:1"},
        {"id": "CS/1"},
        {"id": "CS\n1"},
        {"id": "CS-1", "password": "x" * 15},
        {"id": "CS-1", "password": "x" * 41},
        {"id": "CS-1", "security_profile": 1},  # basic auth without a password
        {"id": "CS-1", "security_profile": 4, "password": STATION_PASSWORD},
        {"id": "CS-1", "registration": "maybe"},
        {"id": "CS-1", "timezone": "Mars/Olympus"},
        {"id": "CS-1", "timezone": "America"},
        {"id": "CS-1", "assume_subprotocol": "ocpp9"},
        {"id": "CS-1", "site_id": "nowhere"},
        {"id": "CS-1", "password_hash": "$argon2id$..."},
        {"id": "CS-1", "min_security_profile": 0},
    ]
    for body in cases:
        resp = await operator.post("/stations", json=body)
        assert resp.status_code == 422, (body, resp.text)
    assert (await operator.get("/stations")).json()["total"] == 0


async def test_station_id_limits(operator: httpx.AsyncClient) -> None:
    await add_station(operator, "X" * 48)
    await add_station(operator, "RDAM 123")  # P4 §3.1.1: percent-encoded in the URL, spaces allowed
    resp = await operator.get("/stations/RDAM%20123")
    assert resp.status_code == 200 and resp.json()["id"] == "RDAM 123"


async def test_duplicate_station_is_409(operator: httpx.AsyncClient) -> None:
    await add_station(operator, "CS-DUP")
    resp = await operator.post("/stations", json={"id": "CS-DUP"})
    assert resp.status_code == 409
    assert resp.json()["detail"] == "station CS-DUP already exists"


async def test_station_shape_with_connectors_from_the_station(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-16")
    await seen_connected(committer, "CS-16", OcppVersion.V16, online=True)
    await station_says(
        committer,
        "CS-16",
        OcppVersion.V16,
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "AC22",
            "chargePointSerialNumber": "SN-1",
            "firmwareVersion": "1.2.3",
        },
    )
    statuses: list[dict[str, Any]] = [
        {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        {
            "connectorId": 2,
            "errorCode": "NoError",
            "status": "Charging",
            "info": "hello",
            "timestamp": "2026-11-28T08:30:00Z",
        },
        {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"},
    ]
    for payload in statuses:
        await station_says(committer, "CS-16", OcppVersion.V16, "StatusNotification", payload)
    resp = await operator.get("/stations/CS-16")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) >= STATION_FIELDS
    assert body["online"] is True
    assert body["ocpp_version"] == "1.6"
    assert (body["vendor"], body["model"], body["serial_number"], body["firmware_version"]) == (
        "Acme",
        "AC22",
        "SN-1",
        "1.2.3",
    )
    assert body["boot_status"] == "Accepted"
    assert body["status"] == "Available" and body["error_code"] == "NoError"
    # 1.6 connector N is EVSE N, connector 1; connector 0 is the station itself, not listed.
    connectors = body["connectors"]
    assert [(c["evse_id"], c["connector_id"]) for c in connectors] == [(1, 1), (2, 1)]
    assert all(set(c) == CONNECTOR_FIELDS for c in connectors)
    assert connectors[0]["status"] == "Faulted" and connectors[0]["error_code"] == "GroundFailure"
    assert connectors[1]["status"] == "Charging" and connectors[1]["info"] == "hello"
    assert connectors[1]["status_at"] == "2026-11-28T08:30:00Z"


async def test_list_filters_and_paging(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    for i in range(5):
        await add_station(operator, f"CS-{i}", registration="pending" if i == 4 else "accepted")
    await seen_connected(committer, "CS-1", OcppVersion.V16, online=True)
    await seen_connected(committer, "CS-2", OcppVersion.V201, online=False)
    page = (await operator.get("/stations", params={"limit": 2, "offset": 1})).json()
    assert [s["id"] for s in page["items"]] == ["CS-1", "CS-2"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)

    async def ids(**params: Any) -> list[str]:
        resp = await operator.get("/stations", params=params)
        assert resp.status_code == 200, resp.text
        return [s["id"] for s in resp.json()["items"]]

    assert await ids(online="true") == ["CS-1"]
    assert await ids(online="false") == ["CS-0", "CS-2", "CS-3", "CS-4"]
    assert await ids(registration="pending") == ["CS-4"]
    assert await ids(ocpp_version="2.0.1") == ["CS-2"]
    assert await ids(ocpp_version="1.6", online="true") == ["CS-1"]
    assert (await operator.get("/stations", params={"registration": "odd"})).status_code == 422


async def test_limit_is_capped_not_refused(operator: httpx.AsyncClient) -> None:
    resp = await operator.get("/stations", params={"limit": 1_000_000})
    assert resp.status_code == 200 and resp.json()["limit"] == 500
    assert (await operator.get("/stations", params={"limit": 0})).status_code == 422
    assert (await operator.get("/stations", params={"offset": -1})).status_code == 422
    default = (await operator.get("/stations")).json()
    assert (default["limit"], default["offset"]) == (50, 0)


async def test_unknown_station_is_404(
    viewer: httpx.AsyncClient, operator: httpx.AsyncClient
) -> None:
    assert (await viewer.get("/stations/NOPE")).status_code == 404
    resp = await operator.patch("/stations/NOPE", json={"registration": "accepted"})
    assert resp.status_code == 404


async def test_patch_approves_and_changes_options(operator: httpx.AsyncClient) -> None:
    await add_station(operator, "CS-P", registration="pending", timezone="Europe/Paris")
    resp = await operator.patch(
        "/stations/CS-P",
        json={
            "registration": "accepted",
            "timezone": None,
            "lenient": True,
            "assume_subprotocol": "ocpp2.0.1",
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["registration"] == "accepted"
    assert body["timezone"] is None  # null clears
    assert body["lenient"] is True and body["assume_subprotocol"] == "ocpp2.0.1"
    rejected = await operator.patch("/stations/CS-P", json={"registration": "rejected"})
    assert rejected.json()["registration"] == "rejected"
    assert rejected.json()["lenient"] is True  # left out: unchanged


async def test_patch_password_and_profile(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-SEC")
    # Raising the profile needs the password in the same request.
    assert (
        await operator.patch("/stations/CS-SEC", json={"security_profile": 1})
    ).status_code == 422
    resp = await operator.patch(
        "/stations/CS-SEC", json={"password": STATION_PASSWORD, "security_profile": 1}
    )
    assert resp.status_code == 200 and resp.json()["security_profile"] == 1
    stored = await _stored(committer, "CS-SEC")
    assert stored.password_hash is not None
    assert verify_password(stored.password_hash, STATION_PASSWORD)
    # A profile-1 station cannot lose its password.
    assert (await operator.patch("/stations/CS-SEC", json={"password": None})).status_code == 422

    # Once it connected with profile 1, a lower profile is refused (A00.FR.002, A05.FR.07).
    async def connected_with_profile_1(uow: UnitOfWork) -> None:
        station = await uow.session.get(Station, "CS-SEC")
        assert station is not None
        station.min_security_profile = 1

    await committer.run(connected_with_profile_1)
    resp = await operator.patch("/stations/CS-SEC", json={"security_profile": 0, "password": None})
    assert resp.status_code == 409
    assert "security profile 0" in resp.json()["detail"]


async def test_patch_refuses_protected_and_null_fields(operator: httpx.AsyncClient) -> None:
    await add_station(operator, "CS-X")
    for body in (
        {"password_hash": "$argon2id$v=19$forged"},
        {"min_security_profile": 0},
        {"online": True},
        {"registration": None},
        {"security_profile": None},
        {"password": "too-short"},
        {"timezone": "Nowhere/Land"},
    ):
        resp = await operator.patch("/stations/CS-X", json=body)
        assert resp.status_code == 422, (body, resp.text)


async def test_viewer_cannot_change_stations(
    viewer: httpx.AsyncClient, operator: httpx.AsyncClient
) -> None:
    await add_station(operator, "CS-V")
    assert (await viewer.post("/stations", json={"id": "CS-W"})).status_code == 403
    assert (
        await viewer.patch("/stations/CS-V", json={"registration": "rejected"})
    ).status_code == 403
    assert (await viewer.post("/sites", json={"id": "s", "name": "S"})).status_code == 403
    assert (await viewer.get("/stations/CS-V")).status_code == 200
    listed = await viewer.get("/stations")
    assert listed.status_code == 200 and listed.json()["total"] == 1


async def test_sites(operator: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    resp = await operator.post("/sites", json={"id": "hq", "name": "HQ"})
    assert resp.status_code == 201
    assert resp.json() == {
        "id": "hq",
        "name": "HQ",
        "timezone": "UTC",
        "organisation_id": None,  # a root operator's site belongs to no organisation (issue 5)
        "latitude": None,
        "longitude": None,
        "address": None,
        "created_at": "2026-11-28T09:00:00Z",
    }
    assert (await operator.post("/sites", json={"id": "hq", "name": "Again"})).status_code == 409
    bad = await operator.post("/sites", json={"id": "x", "name": "X", "timezone": "Nowhere"})
    assert bad.status_code == 422
    assert (await viewer.get("/sites/hq")).json()["name"] == "HQ"
    assert (await viewer.get("/sites/nope")).status_code == 404
    assert [s["id"] for s in (await viewer.get("/sites")).json()["items"]] == ["hq"]
    await add_station(operator, "CS-HQ", site_id="hq")
    await add_station(operator, "CS-ELSE")
    only = (await viewer.get("/stations", params={"site_id": "hq"})).json()
    assert [s["id"] for s in only["items"]] == ["CS-HQ"]
    moved = await operator.patch("/stations/CS-ELSE", json={"site_id": "hq"})
    assert moved.json()["site_id"] == "hq"
    assert (await operator.patch("/stations/CS-ELSE", json={"site_id": "nope"})).status_code == 422


async def test_times_read_back_from_the_database_are_utc(operator: httpx.AsyncClient) -> None:
    # SQLite keeps no offset: what comes back from storage is still shown as UTC.
    assert (await add_station(operator, "CS-T"))["created_at"] == "2026-11-28T09:00:00Z"
    assert (await operator.get("/stations/CS-T")).json()["created_at"] == "2026-11-28T09:00:00Z"
