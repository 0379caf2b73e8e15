"""Site grants: a role on one site beyond the operator's organisation (docs/roles.md)."""

from __future__ import annotations

import httpx
import pytest

from joule.storage.committer import GroupCommitter
from tests.api.conftest import Login
from tests.api.orgs import World, build_world, make_operator, ok


@pytest.fixture
async def world(admin: httpx.AsyncClient, login: Login, committer: GroupCommitter) -> World:
    return await build_world(admin, login, committer)


async def test_a_grant_opens_one_site_with_its_role(world: World, login: Login) -> None:
    # A viewer of cpo-b who operates cpo-a's site-a (e.g. a maintenance contractor).
    contractor = await make_operator(
        world.root,
        login,
        "contractor@example.test",
        "viewer",
        "cpo-b",
        site_grants=[{"site_id": "site-a", "role": "operator"}],
    )
    me = await ok(await contractor.get("/operators/me"), 200)
    assert me["site_grants"] == [{"site_id": "site-a", "role": "operator"}]
    stations = {s["id"] for s in (await ok(await contractor.get("/stations"), 200))["items"]}
    assert stations == {"CP-A", "CP-B"}  # not CP-A-LOOSE: the grant is one site, not cpo-a
    sites = {s["id"] for s in (await ok(await contractor.get("/sites"), 200))["items"]}
    assert sites == {"site-a", "site-b"}
    sessions = {t["id"] for t in (await ok(await contractor.get("/transactions"), 200))["items"]}
    assert sessions == {world.tx_a, world.tx_b}
    # On the granted site the grant's role counts: commands go through (the station is offline).
    assert (await contractor.post("/stations/CP-A/reset", json={"type": "Soft"})).status_code == 409
    # In its own organisation it is still a viewer.
    assert (await contractor.post("/stations/CP-B/reset", json={"type": "Soft"})).status_code == 403
    assert (await contractor.get("/stations/CP-A-LOOSE")).status_code == 404


async def test_a_view_grant_shows_but_never_commands(world: World, login: Login) -> None:
    auditor = await make_operator(
        world.root,
        login,
        "auditor@example.test",
        "operator",
        "cpo-b",
        site_grants=[{"site_id": "site-a", "role": "viewer"}],
    )
    assert (await auditor.get("/stations/CP-A")).status_code == 200
    assert (await auditor.post("/stations/CP-A/reset", json={"type": "Soft"})).status_code == 403
    assert (await auditor.patch("/stations/CP-A", json={"lenient": True})).status_code == 403


async def test_grants_are_checked_and_replaced_by_admins(world: World, login: Login) -> None:
    # An admin grants only sites it sees itself; an admin grant does not exist.
    refused = await world.admin_b.post(
        "/operators",
        json={
            "email": "x@example.test",
            "password": "operator-password-1",
            "role": "viewer",
            "site_grants": [{"site_id": "site-a", "role": "operator"}],
        },
    )
    assert refused.status_code == 404, refused.text
    bad_role = await world.root.post(
        "/operators",
        json={
            "email": "y@example.test",
            "password": "operator-password-1",
            "role": "viewer",
            "site_grants": [{"site_id": "site-a", "role": "admin"}],
        },
    )
    assert bad_role.status_code == 422
    user = await make_operator(world.root, login, "z@example.test", "viewer", "cpo-b")
    me = await ok(await user.get("/operators/me"), 200)
    assert (await user.get("/stations/CP-A")).status_code == 404
    patched = await ok(
        await world.root.patch(
            f"/operators/{me['id']}",
            json={"site_grants": [{"site_id": "site-a", "role": "viewer"}]},
        ),
        200,
    )
    assert patched["site_grants"] == [{"site_id": "site-a", "role": "viewer"}]
    assert (await user.get("/stations/CP-A")).status_code == 200  # applies at the next request
    await ok(await world.root.patch(f"/operators/{me['id']}", json={"site_grants": []}), 200)
    assert (await user.get("/stations/CP-A")).status_code == 404
