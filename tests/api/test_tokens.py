"""Id tokens: create, read, change, list; stations then authorize against them."""

from __future__ import annotations

import httpx

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import add_station, station_says

TOKEN_FIELDS = {
    "uid",
    "type",
    "status",
    "expiry",
    "group_id",
    "max_concurrent",
    "organisation_id",
    "driver_id",
    "created_at",
}


async def test_create_with_defaults(operator: httpx.AsyncClient) -> None:
    resp = await operator.post("/tokens", json={"uid": "04A1B2C3"})
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == TOKEN_FIELDS
    assert (body["status"], body["type"], body["max_concurrent"]) == ("Accepted", "ISO14443", 1)
    assert body["expiry"] is None and body["group_id"] is None


async def test_create_with_every_field(operator: httpx.AsyncClient) -> None:
    resp = await operator.post(
        "/tokens",
        json={
            "uid": "EMAID-1",
            "status": "Blocked",
            "type": "eMAID",
            "expiry": "2027-01-01T01:00:00+01:00",
            "group_id": "FLEET-7",
            "max_concurrent": 3,
        },
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["expiry"] == "2027-01-01T00:00:00Z"  # kept in UTC
    assert (body["status"], body["type"], body["group_id"], body["max_concurrent"]) == (
        "Blocked",
        "eMAID",
        "FLEET-7",
        3,
    )


async def test_duplicate_uid_is_409_in_any_letter_case(operator: httpx.AsyncClient) -> None:
    assert (await operator.post("/tokens", json={"uid": "abc123"})).status_code == 201
    assert (await operator.post("/tokens", json={"uid": "abc123"})).status_code == 409
    assert (await operator.post("/tokens", json={"uid": "ABC123"})).status_code == 409


async def test_bad_token_fields_are_422(operator: httpx.AsyncClient) -> None:
    for body in (
        {},
        {"uid": ""},
        {"uid": "X" * 256},
        {"uid": "X", "status": "Maybe"},
        {"uid": "X", "type": "Passport"},
        {"uid": "X", "max_concurrent": 0},
        {"uid": "X", "expiry": "2027-01-01T00:00:00"},  # no offset
        {"uid": "X", "id": 5},
    ):
        resp = await operator.post("/tokens", json=body)
        assert resp.status_code == 422, (body, resp.text)


async def test_get_list_and_404(operator: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    for uid in ("C", "A", "B"):
        await operator.post("/tokens", json={"uid": uid})
    page = (await viewer.get("/tokens", params={"limit": 2})).json()
    assert [t["uid"] for t in page["items"]] == ["A", "B"] and page["total"] == 3
    assert (await viewer.get("/tokens/B")).json()["uid"] == "B"
    assert (await viewer.get("/tokens/b")).json()["uid"] == "B"  # as stations compare them
    missing = await viewer.get("/tokens/NOPE")
    assert missing.status_code == 404 and missing.json()["detail"] == "id token NOPE does not exist"


async def test_patch(operator: httpx.AsyncClient) -> None:
    await operator.post(
        "/tokens", json={"uid": "T1", "group_id": "G", "expiry": "2027-01-01T00:00:00Z"}
    )
    resp = await operator.patch("/tokens/T1", json={"status": "Blocked", "expiry": None})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "Blocked" and body["expiry"] is None and body["group_id"] == "G"
    resp = await operator.patch("/tokens/T1", json={"max_concurrent": 2, "type": "KeyCode"})
    assert (resp.json()["max_concurrent"], resp.json()["type"]) == (2, "KeyCode")
    for body in ({"status": None}, {"max_concurrent": 0}, {"uid": "T2"}, {"type": "Nope"}):
        assert (await operator.patch("/tokens/T1", json=body)).status_code == 422, body
    assert (await operator.patch("/tokens/NOPE", json={"status": "Blocked"})).status_code == 404


async def test_viewer_cannot_change_tokens(
    viewer: httpx.AsyncClient, operator: httpx.AsyncClient
) -> None:
    await operator.post("/tokens", json={"uid": "T"})
    assert (await viewer.post("/tokens", json={"uid": "U"})).status_code == 403
    assert (await viewer.patch("/tokens/T", json={"status": "Blocked"})).status_code == 403


async def test_stations_authorize_against_api_tokens(
    operator: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-AUTH")
    await operator.post("/tokens", json={"uid": "GOOD"})
    await operator.post("/tokens", json={"uid": "BAD", "status": "Blocked"})
    v16 = OcppVersion.V16
    good = await station_says(committer, "CS-AUTH", v16, "Authorize", {"idTag": "GOOD"})
    bad = await station_says(committer, "CS-AUTH", v16, "Authorize", {"idTag": "BAD"})
    assert good["idTagInfo"]["status"] == "Accepted"
    assert bad["idTagInfo"]["status"] == "Blocked"
    await operator.patch("/tokens/BAD", json={"status": "Accepted"})
    again = await station_says(committer, "CS-AUTH", v16, "Authorize", {"idTag": "BAD"})
    assert again["idTagInfo"]["status"] == "Accepted"
