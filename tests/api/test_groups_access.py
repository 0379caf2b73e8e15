"""Drivers, groups, members, rules, access modes and token CSV over the API; stations then obey."""

from __future__ import annotations

from typing import Any

import httpx

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import add_station, station_says

# NOW in conftest is Saturday 2026-11-28 09:00 UTC.


async def _site(admin: httpx.AsyncClient, site_id: str = "office") -> None:
    resp = await admin.post("/sites", json={"id": site_id, "name": site_id, "timezone": "UTC"})
    assert resp.status_code == 201, resp.text


async def _authorize(committer: GroupCommitter, station_id: str, uid: str) -> dict[str, Any]:
    answer = await station_says(
        committer,
        station_id,
        OcppVersion.V201,
        "Authorize",
        {"idToken": {"idToken": uid, "type": "ISO14443"}},
    )
    info: dict[str, Any] = answer["idTokenInfo"]
    return info


async def test_driver_crud_and_tokens(admin: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    resp = await admin.post("/drivers", json={"name": "Ada", "email": "Ada@Example.test"})
    assert resp.status_code == 201, resp.text
    driver = resp.json()
    assert driver["email"] == "ada@example.test" and driver["status"] == "Active"
    assert (
        await admin.post("/drivers", json={"name": "X", "email": "ada@example.test"})
    ).status_code == 409
    assert (await viewer.post("/drivers", json={"name": "V"})).status_code == 403
    resp = await admin.post("/tokens", json={"uid": "ADA-1", "driver_id": driver["id"]})
    assert resp.status_code == 201, resp.text
    tokens = (await admin.get(f"/drivers/{driver['id']}/tokens")).json()
    assert [t["uid"] for t in tokens] == ["ADA-1"]
    resp = await admin.patch(f"/drivers/{driver['id']}", json={"status": "Blocked"})
    assert resp.json()["status"] == "Blocked"
    assert (await admin.patch(f"/drivers/{driver['id']}", json={"status": None})).status_code == 422
    listed = (await viewer.get("/drivers", params={"q": "ada"})).json()
    assert listed["total"] == 1
    assert (await admin.get("/drivers/999999")).status_code == 404
    audit = (await admin.get("/audit", params={"object_type": "driver"})).json()
    assert {e["action"] for e in audit["items"]} >= {"driver.create", "driver.update"}


async def test_private_site_with_time_window(
    admin: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await _site(admin)
    await add_station(admin, "CS-A", site_id="office")
    assert (await admin.post("/tokens", json={"uid": "EMP-1"})).status_code == 201
    resp = await admin.put("/sites/office/access-mode", json={"access_mode": "private"})
    assert resp.status_code == 200, resp.text
    assert (await _authorize(committer, "CS-A", "EMP-1"))["status"] == "NotAtThisLocation"

    resp = await admin.post(
        "/groups", json={"id": "employees", "name": "Staff", "kind": "employees"}
    )
    assert resp.status_code == 201, resp.text
    assert (await admin.post("/groups/employees/members", json={"uid": "EMP-1"})).status_code == 204
    # Saturday 09:00: a weekday rule matches the place but not the time.
    weekdays = {
        "site_id": "office",
        "days": [1, 2, 3, 4, 5],
        "start_time": "07:00",
        "end_time": "19:00",
    }
    resp = await admin.post("/groups/employees/rules", json=weekdays)
    assert resp.status_code == 201, resp.text
    assert (await _authorize(committer, "CS-A", "EMP-1"))["status"] == "NotAtThisTime"
    weekend = {"site_id": "office", "days": [6, 7]}
    rule = (await admin.post("/groups/employees/rules", json=weekend)).json()
    assert (await _authorize(committer, "CS-A", "EMP-1"))["status"] == "Accepted"
    assert len((await admin.get("/groups/employees/rules")).json()) == 2
    resp = await admin.delete(f"/groups/employees/rules/{rule['id']}")
    assert resp.status_code == 204
    assert (await _authorize(committer, "CS-A", "EMP-1"))["status"] == "NotAtThisTime"
    # The station can override its site: public again.
    resp = await admin.put("/stations/CS-A/access-mode", json={"access_mode": "public"})
    assert resp.json() == {"id": "CS-A", "access_mode": "public"}
    assert (await _authorize(committer, "CS-A", "EMP-1"))["status"] == "Accepted"
    members = (await admin.get("/groups/employees/members")).json()
    assert [t["uid"] for t in members["tokens"]] == ["EMP-1"]


async def test_bad_rules_and_modes_are_4xx(admin: httpx.AsyncClient) -> None:
    await _site(admin)
    assert (await admin.post("/groups", json={"id": "g", "name": "G"})).status_code == 201
    for bad in (
        {"days": [0]},
        {"days": []},
        {"start_time": "25:00"},
        {"site_id": "nowhere"},
        {"evse_id": 1},
        {"valid_from": "2027-01-02T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"},
        {"surprise": 1},
    ):
        resp = await admin.post("/groups/g/rules", json=bad)
        assert resp.status_code in (404, 422), (bad, resp.text)
    assert (
        await admin.put("/sites/office/access-mode", json={"access_mode": "open"})
    ).status_code == 422
    assert (
        await admin.put("/sites/nowhere/access-mode", json={"access_mode": "private"})
    ).status_code == 404
    assert (await admin.post("/groups/g/members", json={})).status_code == 422
    assert (await admin.post("/groups", json={"id": "g", "name": "again"})).status_code == 409
    assert (
        await admin.post("/groups", json={"name": "n", "discount_percent": 120})
    ).status_code == 422


async def test_group_budget_and_members_by_driver(admin: httpx.AsyncClient) -> None:
    resp = await admin.post(
        "/groups",
        json={
            "id": "fleet",
            "name": "Fleet",
            "kind": "fleet",
            "monthly_energy_budget_wh": "50000.5",
        },
    )
    assert resp.json()["monthly_energy_budget_wh"] == "50000.5"
    driver = (await admin.post("/drivers", json={"name": "Bo"})).json()
    assert (
        await admin.post("/groups/fleet/members", json={"driver_id": driver["id"]})
    ).status_code == 204
    members = (await admin.get("/groups/fleet/members")).json()
    assert [d["name"] for d in members["drivers"]] == ["Bo"]
    resp = await admin.delete(f"/groups/fleet/members/drivers/{driver['id']}")
    assert resp.status_code == 204
    assert (await admin.delete("/groups/fleet")).status_code == 204
    assert (await admin.get("/groups/fleet")).status_code == 404


async def test_token_csv_round_trip_dry_run_and_errors(admin: httpx.AsyncClient) -> None:
    await admin.post("/drivers", json={"name": "Ada", "email": "ada@example.test"})
    good = (
        "uid,type,status,expiry,group_id,max_concurrent,driver_email\n"
        "CSV-1,ISO14443,Accepted,2027-01-01T00:00:00Z,FAM,2,ada@example.test\n"
        "CSV-2,eMAID,Blocked,,,,\n"
    )
    headers = {"Content-Type": "text/csv"}
    resp = await admin.post("/tokens/import?dry_run=true", content=good, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"errors": []} == {
        "dry_run": True,
        "written": False,
        "created": 2,
        "updated": 0,
        "errors": [],
    }
    assert (await admin.get("/tokens/CSV-1")).status_code == 404
    bad = good + "CSV-3,Plastic,Accepted,,,,\nCSV-1,ISO14443,Accepted,,,,\nCSV-4,,,tomorrow,,,\n"
    resp = await admin.post("/tokens/import", content=bad, headers=headers)
    assert resp.status_code == 422
    errors = resp.json()["detail"]["errors"]
    assert [e["line"] for e in errors] == [4, 5, 6]
    assert "Plastic" in errors[0]["error"] and "repeats line 2" in errors[1]["error"]
    assert (await admin.get("/tokens/CSV-2")).status_code == 404  # all or nothing
    resp = await admin.post("/tokens/import", files={"file": ("t.csv", good.encode(), "text/csv")})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["created"], resp.json()["written"]) == (2, True)
    token = (await admin.get("/tokens/CSV-1")).json()
    assert token["max_concurrent"] == 2 and token["driver_id"] is not None
    resp = await admin.post(
        "/tokens/import", content="uid,status\nCSV-2,Accepted\n", headers=headers
    )
    assert (resp.json()["updated"], resp.json()["created"]) == (1, 0)
    assert (await admin.get("/tokens/CSV-2")).json()["type"] == "eMAID"  # absent column kept
    exported = (await admin.get("/tokens/export.csv")).text.splitlines()
    assert (
        exported[0] == "uid,type,status,expiry,group_id,max_concurrent,organisation_id,driver_email"
    )
    assert exported[1].startswith("CSV-1,ISO14443,Accepted,2027-01-01T00:00:00") and exported[
        1
    ].endswith("ada@example.test")
    drivers = (await admin.get("/drivers/export.csv")).text.splitlines()
    assert drivers[0] == "id,name,email,status,organisation_id" and "Ada" in drivers[1]
