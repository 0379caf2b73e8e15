"""Access groups and rules stay inside their organisation; viewers only read (issue 5)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from joule.storage.committer import GroupCommitter
from tests.api.conftest import Login
from tests.api.orgs import World, build_world, ok


@pytest.fixture
async def world(
    admin: httpx.AsyncClient, login: Login, committer: GroupCommitter, app: FastAPI
) -> World:
    return await build_world(admin, login, committer)


async def test_groups_are_scoped(world: World) -> None:
    a, b = world.admin_a, world.admin_b
    group = await ok(await a.post("/groups", json={"id": "staff-a", "name": "Staff"}))
    assert group["organisation_id"] == "cpo-a"
    await ok(await a.post("/groups/staff-a/rules", json={"site_id": "site-a"}))
    # Another organisation sees nothing and changes nothing: 404, never 403.
    assert (await b.get("/groups/staff-a")).status_code == 404
    assert (await b.get("/groups/staff-a/rules")).status_code == 404
    assert (await b.get("/groups/staff-a/members")).status_code == 404
    assert (await b.patch("/groups/staff-a", json={"name": "mine"})).status_code == 404
    assert (await b.delete("/groups/staff-a")).status_code == 404
    assert (await b.get("/groups")).json()["total"] == 0
    # Nor can a rule point at another organisation's site or station, or a member be foreign.
    await ok(await b.post("/groups", json={"id": "staff-b", "name": "Staff B"}))
    assert (await b.post("/groups/staff-b/rules", json={"site_id": "site-a"})).status_code == 404
    assert (await b.post("/groups/staff-b/rules", json={"station_id": "CP-A"})).status_code == 404
    driver = await ok(await a.post("/drivers", json={"name": "Ann"}))
    resp = await b.post("/groups/staff-b/members", json={"driver_id": driver["id"]})
    assert resp.status_code == 404
    assert (
        await b.put("/sites/site-a/access-mode", json={"access_mode": "private"})
    ).status_code == 404
    assert (
        await b.put("/stations/CP-A/access-mode", json={"access_mode": "private"})
    ).status_code == 404
    # A group cannot be created for someone else's organisation.
    resp = await b.post("/groups", json={"name": "x", "organisation_id": "cpo-a"})
    assert resp.status_code == 404


async def test_viewers_only_read_access_data(world: World) -> None:
    await ok(await world.admin_a.post("/groups", json={"id": "staff-a", "name": "Staff"}))
    viewer = world.viewer_a
    assert (await viewer.get("/groups/staff-a")).status_code == 200
    for resp in (
        await viewer.post("/groups", json={"name": "v"}),
        await viewer.post("/groups/staff-a/rules", json={}),
        await viewer.patch("/groups/staff-a", json={"name": "v"}),
        await viewer.put("/sites/site-a/access-mode", json={"access_mode": "mixed"}),
        await viewer.post("/drivers", json={"name": "v"}),
        await viewer.post(
            "/tokens/import", content="uid\nX\n", headers={"Content-Type": "text/csv"}
        ),
    ):
        assert resp.status_code == 403, resp.text
    assert (await viewer.get("/tokens/export.csv")).status_code == 200


async def test_exports_and_imports_are_scoped(world: World) -> None:
    a, b = world.admin_a, world.admin_b
    await ok(await a.post("/tokens", json={"uid": "TAG-A"}))
    assert "TAG-A" not in (await b.get("/tokens/export.csv")).text
    assert "TAG-A" in (await a.get("/tokens/export.csv")).text
    # Importing over another organisation's uid is refused without revealing it.
    resp = await b.post(
        "/tokens/import",
        content="uid,status\nTAG-A,Blocked\n",
        headers={"Content-Type": "text/csv"},
    )
    assert resp.status_code == 422
    assert resp.json()["detail"]["errors"] == [{"line": 2, "error": "uid TAG-A is taken"}]
    assert (await a.get("/tokens/TAG-A")).json()["status"] == "Accepted"
