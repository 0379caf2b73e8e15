"""Organisation isolation over every list and detail endpoint (issue 5: 404, never 403).

An admin of cpo-b never sees cpo-a's station, site, session, token, driver, operator, alert or
audit entry: details answer 404 and lists leave them out; cpo-a's admin sees its own subtree
(a-host's station too), and the root admin sees everything.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from joule.api.monitoring import install
from joule.domain.alerting import service as alerting
from joule.domain.alerting.rules import Finding
from joule.domain.command.bulk import BulkRunner
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork
from tests.api.conftest import NOW, PASSWORD, Login
from tests.api.orgs import World, build_world, ok


@pytest.fixture
async def world(
    app: FastAPI,
    admin: httpx.AsyncClient,
    login: Login,
    committer: GroupCommitter,
    clock: FixedClock,
) -> World:
    install(app, bulk_runner=BulkRunner(committer, clock, concurrency=2))
    return await build_world(admin, login, committer)


def ids(page: dict[str, Any], key: str = "id") -> set[Any]:
    return {item[key] for item in page["items"]}


async def test_stations_sites_and_sessions_stay_inside_their_organisation(world: World) -> None:
    a, b = world.admin_a, world.admin_b
    assert ids(await ok(await a.get("/stations"), 200)) == {"CP-A", "CP-A-LOOSE"}
    assert ids(await ok(await b.get("/stations"), 200)) == {"CP-B"}
    assert ids(await ok(await world.root.get("/stations"), 200)) == {"CP-A", "CP-B", "CP-A-LOOSE"}
    assert ids(await ok(await a.get("/sites"), 200)) == {"site-a"}
    assert ids(await ok(await b.get("/sites"), 200)) == {"site-b"}
    assert ids(await ok(await a.get("/transactions"), 200)) == {world.tx_a}
    assert ids(await ok(await b.get("/transactions"), 200)) == {world.tx_b}
    # A filter naming the other organisation's station finds nothing rather than leaking.
    assert ids(await ok(await b.get("/transactions", params={"station_id": "CP-A"}), 200)) == set()

    for path in (
        "/stations/CP-A",
        "/stations/CP-A-LOOSE",
        "/stations/CP-A/messages",
        "/stations/CP-A/status-history",
        "/stations/CP-A/boots",
        "/stations/CP-A/commands",
        "/sites/site-a",
        f"/transactions/{world.tx_a}",
    ):
        resp = await b.get(path)
        assert resp.status_code == 404, (path, resp.text)
        assert (await a.get(path)).status_code == 200, path
    # Out of scope reads exactly like absent: same status, same words.
    absent = await b.get("/stations/NO-SUCH")
    hidden = await b.get("/stations/CP-A")
    assert absent.json()["detail"].replace("NO-SUCH", "X") == hidden.json()["detail"].replace(
        "CP-A", "X"
    )


async def test_commands_and_changes_on_another_organisations_station_are_404(world: World) -> None:
    b = world.admin_b
    for method, path, body in (
        ("POST", "/stations/CP-A/reset", {"type": "Soft"}),
        ("PATCH", "/stations/CP-A", {"registration": "rejected"}),
        ("POST", "/stations/CP-A/trigger", {"message": "Heartbeat"}),
    ):
        resp = await b.request(method, path, json=body)
        assert resp.status_code == 404, (path, resp.text)
    # Registering a station on another organisation's site is refused as if the site were absent.
    resp = await b.post("/stations", json={"id": "CP-SNEAK", "site_id": "site-a"})
    assert resp.status_code == 422 and "site-a does not exist" in resp.text
    # A site for an organisation outside the subtree: 404.
    resp = await b.post("/sites", json={"id": "s-x", "name": "x", "organisation_id": "cpo-a"})
    assert resp.status_code == 404, resp.text
    # Without organisation_id, the admin's own organisation owns the new site.
    site = await ok(await b.post("/sites", json={"id": "site-b2", "name": "B2"}))
    assert site["organisation_id"] == "cpo-b"


async def test_tokens_and_drivers_stay_inside_their_organisation(world: World) -> None:
    a, b = world.admin_a, world.admin_b
    driver = await ok(await a.post("/drivers", json={"name": "Ann", "email": "ann@a.test"}))
    await ok(await a.post("/tokens", json={"uid": "TAG-A", "driver_id": driver["id"]}))
    assert (await b.get("/tokens/TAG-A")).status_code == 404
    assert (await b.get(f"/drivers/{driver['id']}")).status_code == 404
    assert (await b.patch("/tokens/TAG-A", json={"status": "Blocked"})).status_code == 404
    assert "TAG-A" not in ids(await ok(await b.get("/tokens"), 200), "uid")
    assert driver["id"] not in ids(await ok(await b.get("/drivers"), 200))
    assert (await a.get("/tokens/TAG-A")).status_code == 200
    assert "TAG-A" in ids(await ok(await a.get("/tokens"), 200), "uid")


async def test_operators_organisations_and_audit_are_scoped(world: World) -> None:
    a, b = world.admin_a, world.admin_b
    assert ids(await ok(await a.get("/organisations"), 200)) == {"cpo-a", "a-host"}
    assert ids(await ok(await b.get("/organisations"), 200)) == {"cpo-b"}
    assert (await b.get("/organisations/cpo-a")).status_code == 404
    emails = {o["email"] for o in (await ok(await a.get("/operators"), 200))["items"]}
    assert emails == {"admin-a@example.test", "operator-a@example.test", "viewer-a@example.test"}
    others = (await ok(await b.get("/operators"), 200))["items"]
    assert {o["email"] for o in others} == {"admin-b@example.test"}
    admin_a_id = next(o["id"] for o in (await ok(await a.get("/operators"), 200))["items"])
    assert (await b.get(f"/operators/{admin_a_id}")).status_code == 404
    assert (await b.patch(f"/operators/{admin_a_id}", json={"active": False})).status_code == 404
    audit_b = await ok(await b.get("/audit"), 200)
    assert all(e["organisation_id"] == "cpo-b" for e in audit_b["items"])
    audit_a = await ok(await a.get("/audit", params={"object_type": "site"}), 200)
    assert [e["object_id"] for e in audit_a["items"]] == ["site-a"]


async def test_alerts_are_scoped_by_their_station(world: World, committer: GroupCommitter) -> None:
    async def raise_two(uow: UnitOfWork) -> list[int]:
        found = [
            Finding("connector_faulted", f"{s}/1/1", s, site, "critical", "Faulted", {})
            for s, site in (("CP-A", "site-a"), ("CP-B", "site-b"))
        ]
        changes = await alerting.reconcile(uow, found, now=NOW)
        return [int(c.alert["id"]) for c in changes]

    alert_a, alert_b = await committer.run(raise_two)
    a, b = world.admin_a, world.admin_b
    assert ids(await ok(await a.get("/alerts"), 200)) == {alert_a}
    assert ids(await ok(await b.get("/alerts"), 200)) == {alert_b}
    assert (await b.get(f"/alerts/{alert_a}")).status_code == 404
    assert (await b.post(f"/alerts/{alert_a}/acknowledge")).status_code == 404
    assert (await a.post(f"/alerts/{alert_a}/acknowledge")).status_code == 200


async def test_bulk_selection_never_leaves_the_scope(world: World) -> None:
    job = await ok(
        await world.admin_b.post(
            "/bulk/reset", json={"station_ids": ["CP-A", "CP-B"], "params": {"type": "Soft"}}
        ),
        202,
    )
    outcomes = {r["station_id"]: r for r in job["results"]}
    # CP-A is reported exactly as an unknown id would be; it is never sent anything.
    assert outcomes["CP-A"]["outcome"] == "not_found"
    assert outcomes["CP-B"]["outcome"] != "not_found"
    everything = await ok(
        await world.admin_b.post("/bulk/reset", json={"filter": {}, "params": {"type": "Soft"}}),
        202,
    )
    assert {r["station_id"] for r in everything["results"]} == {"CP-B"}
    assert (await world.admin_a.get(f"/bulk/{job['id']}")).status_code == 404
    assert (await world.admin_b.get(f"/bulk/{job['id']}")).status_code == 200


async def test_dashboard_station_pages_are_404_for_another_organisation(
    app: FastAPI, world: World
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://joule.test"
    ) as browser:
        form = await browser.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        resp = await browser.post(
            "/ui/login",
            data={"email": "admin-b@example.test", "password": PASSWORD, "csrf": csrf.group(1)},
        )
        assert resp.status_code == 303, resp.text
        assert (await browser.get("/ui/stations/CP-B")).status_code == 200
        for path in ("/ui/stations/CP-A", "/ui/stations/CP-A/sessions"):
            assert (await browser.get(path)).status_code == 404, path
