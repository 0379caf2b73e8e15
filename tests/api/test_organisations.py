"""Organisations: a tree; admins create and change only inside their own subtree (issue 5)."""

from __future__ import annotations

import httpx

from tests.api.conftest import Login
from tests.api.orgs import make_operator, ok


async def test_root_builds_a_tree_and_a_sub_admin_stays_in_its_subtree(
    admin: httpx.AsyncClient, login: Login
) -> None:
    cpo = await ok(await admin.post("/organisations", json={"id": "cpo", "name": "The CPO"}))
    assert cpo == {
        "id": "cpo",
        "name": "The CPO",
        "parent_id": None,
        "created_at": "2026-11-28T09:00:00Z",
    }
    await ok(await admin.post("/organisations", json={"id": "other", "name": "Other CPO"}))
    sub_admin = await make_operator(admin, login, "sub@example.test", "admin", "cpo")
    # Without parent_id, a sub-admin's organisation hangs below its own.
    host = await ok(await sub_admin.post("/organisations", json={"name": "Mall host"}))
    assert host["parent_id"] == "cpo" and host["id"].startswith("org-")
    deeper = await ok(
        await sub_admin.post(
            "/organisations", json={"id": "mall-2", "name": "Mall 2", "parent_id": host["id"]}
        )
    )
    assert deeper["parent_id"] == host["id"]
    # Outside the subtree: 404, whether the parent exists or not.
    for parent in ("other", "nowhere"):
        resp = await sub_admin.post(
            "/organisations", json={"id": "x", "name": "x", "parent_id": parent}
        )
        assert resp.status_code == 404, resp.text
    listed = {o["id"] for o in (await ok(await sub_admin.get("/organisations"), 200))["items"]}
    assert listed == {"cpo", host["id"], "mall-2"}
    assert (await sub_admin.get("/organisations/other")).status_code == 404
    assert (await sub_admin.patch("/organisations/other", json={"name": "mine"})).status_code == 404
    root_list = {o["id"] for o in (await ok(await admin.get("/organisations"), 200))["items"]}
    assert root_list == {"cpo", "other", host["id"], "mall-2"}


async def test_patch_renames_and_moves_but_never_makes_a_cycle(
    admin: httpx.AsyncClient, login: Login
) -> None:
    for org, parent in (("a", None), ("b", "a"), ("c", "b")):
        await ok(
            await admin.post("/organisations", json={"id": org, "name": org, "parent_id": parent})
        )
    renamed = await ok(await admin.patch("/organisations/b", json={"name": "Bee"}), 200)
    assert renamed["name"] == "Bee"
    cycle = await admin.patch("/organisations/a", json={"parent_id": "c"})
    assert cycle.status_code == 422 and "cycle" in cycle.text
    moved = await ok(await admin.patch("/organisations/c", json={"parent_id": "a"}), 200)
    assert moved["parent_id"] == "a"
    assert (await admin.patch("/organisations/a", json={"name": None})).status_code == 422
    sub_admin = await make_operator(admin, login, "b@example.test", "admin", "b")
    own = await sub_admin.patch("/organisations/b", json={"parent_id": None})
    assert own.status_code == 422  # an admin does not move its own organisation
    audit = await ok(await admin.get("/audit", params={"object_type": "organisation"}), 200)
    actions = [(e["action"], e["object_id"]) for e in audit["items"]]
    assert ("organisation.update", "b") in actions and ("organisation.create", "c") in actions


async def test_bad_organisation_input_is_a_clear_4xx(admin: httpx.AsyncClient) -> None:
    for body in (
        {"id": "has space", "name": "x"},
        {"id": "a/b", "name": "x"},
        {"name": "   "},
        {"name": "x", "colour": "red"},
        {"id": "x" * 65, "name": "x"},
    ):
        resp = await admin.post("/organisations", json=body)
        assert resp.status_code == 422, (body, resp.text)
    await ok(await admin.post("/organisations", json={"id": "dup", "name": "x"}))
    assert (await admin.post("/organisations", json={"id": "dup", "name": "y"})).status_code == 409


async def test_viewers_and_operators_read_but_do_not_create(
    admin: httpx.AsyncClient, login: Login
) -> None:
    await ok(await admin.post("/organisations", json={"id": "cpo", "name": "cpo"}))
    viewer = await make_operator(admin, login, "v@example.test", "viewer", "cpo")
    operator = await make_operator(admin, login, "o@example.test", "operator", "cpo")
    for client in (viewer, operator):
        assert (await client.post("/organisations", json={"name": "x"})).status_code == 403
        items = (await ok(await client.get("/organisations"), 200))["items"]
        assert [o["id"] for o in items] == ["cpo"]
