"""Sites API: owner, position, address and time zone on create and PATCH; validated (422), scoped
(404 outside), role-checked (403), audited (issue 5). Real app over ASGI on the real database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from joule.storage.committer import GroupCommitter
from tests.api.conftest import Login
from tests.api.orgs import World, build_world, make_operator, ok


@pytest.fixture
async def world(admin: httpx.AsyncClient, login: Login, committer: GroupCommitter) -> World:
    return await build_world(admin, login, committer)


def problem(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    return str(resp.json()["detail"])


async def test_a_site_is_created_with_owner_position_address_and_zone(world: World) -> None:
    body: dict[str, Any] = {
        "id": "depot-1",
        "name": "Depot",
        "organisation_id": "a-host",  # a descendant of the admin's cpo-a
        "latitude": 52.370216,
        "longitude": 4.895168,
        "address": "Dam 1, Amsterdam",
        "timezone": "Europe/Amsterdam",
    }
    site = await ok(await world.admin_a.post("/sites", json=body))
    assert {k: site[k] for k in body} == body
    assert await ok(await world.admin_a.get("/sites/depot-1"), 200) == site
    # The owner defaults to the caller's organisation.
    own = await ok(await world.operator_a.post("/sites", json={"id": "own", "name": "Own"}))
    assert own["organisation_id"] == "cpo-a" and own["latitude"] is None
    entries = (await ok(await world.admin_a.get("/audit", params={"object_id": "depot-1"}), 200))[
        "items"
    ]
    assert [e["action"] for e in entries] == ["site.create"]
    assert entries[0]["changes"]["latitude"] == 52.370216
    assert entries[0]["changes"]["address"] == "Dam 1, Amsterdam"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"latitude": 91, "longitude": 0}, "less than or equal to 90"),
        ({"latitude": -90.5, "longitude": 0}, "greater than or equal to -90"),
        ({"latitude": 0, "longitude": 180.01}, "less than or equal to 180"),
        ({"latitude": 10}, "both latitude and longitude"),
        ({"longitude": 10}, "both latitude and longitude"),
        ({"latitude": "north", "longitude": 1}, "valid number"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"timezone": "America"}, "not an IANA time zone"),
        ({"address": ""}, "at least 1 character"),
        ({"address": "x" * 501}, "at most 500 characters"),
    ],
)
async def test_bad_fields_are_422_with_the_reason(
    world: World, fields: dict[str, Any], words: str
) -> None:
    resp = await world.admin_a.post("/sites", json={"id": "bad", "name": "Bad", **fields})
    assert words in str(resp.json()["detail"]), resp.text
    assert resp.status_code == 422
    assert (await world.admin_a.get("/sites/bad")).status_code == 404  # nothing half made
    patched = await world.admin_a.patch("/sites/site-a", json=fields)
    if "both latitude" not in words:  # a half position on a site without one is the same 422
        assert words in str(patched.json()["detail"]), patched.text
    assert patched.status_code == 422


async def test_an_owner_outside_the_subtree_is_404(world: World) -> None:
    for org in ("cpo-b", "nowhere"):
        resp = await world.admin_a.post(
            "/sites", json={"id": "x", "name": "X", "organisation_id": org}
        )
        assert "not found" in problem(resp, 404)
        moved = await world.admin_a.patch("/sites/site-a", json={"organisation_id": org})
        assert "not found" in problem(moved, 404)
    assert (await ok(await world.root.get("/sites/site-a"), 200))["organisation_id"] == "cpo-a"


async def test_patch_changes_only_what_is_sent_and_audits_it(world: World) -> None:
    changed = await ok(
        await world.operator_a.patch(
            "/sites/site-a",
            json={
                "name": "Site A North",
                "latitude": 51.5,
                "longitude": -0.12,
                "address": "1 Main St",
                "timezone": "Europe/London",
            },
        ),
        200,
    )
    assert (changed["name"], changed["latitude"], changed["longitude"]) == (
        "Site A North",
        51.5,
        -0.12,
    )
    assert (changed["address"], changed["timezone"]) == ("1 Main St", "Europe/London")
    moved = await ok(
        await world.admin_a.patch("/sites/site-a", json={"organisation_id": "a-host"}), 200
    )
    assert moved["organisation_id"] == "a-host" and moved["name"] == "Site A North"
    cleared = await ok(
        await world.admin_a.patch(
            "/sites/site-a", json={"latitude": None, "longitude": None, "address": None}
        ),
        200,
    )
    assert (cleared["latitude"], cleared["longitude"], cleared["address"]) == (None, None, None)
    assert cleared["timezone"] == "Europe/London"
    assert "needs a time zone" in problem(
        await world.admin_a.patch("/sites/site-a", json={"timezone": None}), 422
    )
    assert "Extra inputs" in problem(
        await world.admin_a.patch("/sites/site-a", json={"access": "x"}), 422
    )
    entries = (await ok(await world.admin_a.get("/audit", params={"object_id": "site-a"}), 200))[
        "items"
    ]
    updates = [e for e in entries if e["action"] == "site.update"]
    assert len(updates) == 3  # newest first
    assert updates[2]["actor"] == "operator-a@example.test"
    assert updates[2]["changes"]["name"] == "Site A North"
    assert updates[1]["changes"] == {"organisation_id": "a-host"}
    assert updates[0]["changes"] == {"latitude": None, "longitude": None, "address": None}


async def test_patch_is_scoped_then_role_checked(world: World, login: Login) -> None:
    # Another organisation's site is as absent as an unknown one, for an admin too.
    assert "does not exist" in problem(
        await world.admin_b.patch("/sites/site-a", json={"name": "Mine"}), 404
    )
    assert "does not exist" in problem(
        await world.admin_a.patch("/sites/nope", json={"name": "Mine"}), 404
    )
    assert "may only read" in problem(
        await world.viewer_a.patch("/sites/site-a", json={"name": "Mine"}), 403
    )
    # A viewer of cpo-b with an operator grant on site-a may edit that site, not its own.
    contractor = await make_operator(
        world.root,
        login,
        "contractor@example.test",
        "viewer",
        "cpo-b",
        site_grants=[{"site_id": "site-a", "role": "operator"}],
    )
    await ok(await contractor.patch("/sites/site-a", json={"address": "Gate 2"}), 200)
    assert "may only read" in problem(
        await contractor.patch("/sites/site-b", json={"address": "Gate 2"}), 403
    )
    assert (await ok(await world.root.get("/sites/site-b"), 200))["address"] is None
