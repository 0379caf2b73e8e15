"""The role matrix of docs/roles.md, enforced on every route the app has (issue 5).

Table-driven off the app's OpenAPI document, so a route added tomorrow is covered without
touching this file: every mutating endpoint answers 403 to a viewer (operator token or viewer API
key), every endpoint with a {station_id} answers 404 for another organisation's station, and
every endpoint outside the explicit public allow-list answers 401 without credentials.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from joule.api.monitoring import install
from joule.domain.command.bulk import BulkRunner
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from tests.api.conftest import Login
from tests.api.orgs import World, build_world, ok

PREFIX = "/api/v1"
MUTATING = {"post", "put", "patch", "delete"}
# Endpoints anyone may call: logging in, asking for and using a password reset, health.
PUBLIC = {
    ("post", "/auth/token"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"),
    ("get", "/health"),
    ("post", "/driver/auth/token"),
}
# Changes every signed-in operator may make to themselves, whatever the role.
SELF_SERVICE = {("post", "/auth/password")}
# The drivers' own portal: driver sessions, not operator roles (tests/api/test_driver_*).
DRIVER_PORTAL = re.compile(r"^/me(/|$)")


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path without prefix) for every operation in the OpenAPI document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        assert path.startswith(PREFIX), path
        for method in operations:
            found.append((method, path.removeprefix(PREFIX)))
    return sorted(found)


def concrete(path: str, station_id: str) -> str:
    """The path with {station_id} set and every other parameter a harmless placeholder."""
    path = path.replace("{station_id}", station_id)
    return re.sub(r"\{[^}]+\}", "1", path)


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


@pytest.fixture
async def viewer_key(world: World, app: FastAPI) -> httpx.AsyncClient:
    issued = await ok(
        await world.admin_a.post("/api-keys", json={"name": "dashboard feed", "role": "viewer"})
    )
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport,
        base_url=f"http://joule.test{PREFIX}",
        headers={"X-API-Key": issued["key"]},
    )
    return client


async def call(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    body: Any = {} if method in MUTATING else None
    return await client.request(method.upper(), path, json=body)


async def test_the_matrix_covers_the_routes_it_should(app: FastAPI, world: World) -> None:
    table = routes(app)
    per_station = [r for r in table if "{station_id}" in r[1]]
    mutating = [r for r in table if r[0] in MUTATING]
    # A guard against a silently empty table (e.g. the OpenAPI document losing its paths).
    assert len(per_station) >= 20 and len(mutating) >= 30, (len(per_station), len(mutating))
    assert ("post", "/stations/{station_id}/reset") in table
    assert ("get", "/audit") in table and ("post", "/api-keys") in table


async def test_every_mutating_endpoint_is_403_for_a_viewer(
    app: FastAPI, world: World, viewer_key: httpx.AsyncClient
) -> None:
    checked = 0
    for method, path in routes(app):
        if method not in MUTATING or (method, path) in PUBLIC | SELF_SERVICE:
            continue
        if DRIVER_PORTAL.match(path):
            continue
        url = concrete(path, "CP-A")  # a station the viewer sees: the role decides, not scope
        for who, client in (("viewer", world.viewer_a), ("viewer key", viewer_key)):
            resp = await call(client, method, url)
            assert resp.status_code == 403, (who, method, url, resp.status_code, resp.text)
        checked += 1
    assert checked >= 30


async def test_every_per_station_endpoint_is_404_for_another_organisation(
    app: FastAPI, world: World
) -> None:
    checked = 0
    for method, path in routes(app):
        if "{station_id}" not in path:
            continue
        url = concrete(path, "CP-A")
        resp = await call(world.admin_b, method, url)
        assert resp.status_code == 404, (method, url, resp.status_code, resp.text)
        assert "CP-A" in resp.json()["detail"]
        checked += 1
    assert checked >= 20


async def test_every_endpoint_but_the_public_ones_needs_credentials(
    app: FastAPI, anon: httpx.AsyncClient, world: World
) -> None:
    for method, path in routes(app):
        if (method, path) in PUBLIC or DRIVER_PORTAL.match(path):
            continue
        resp = await call(anon, method, concrete(path, "CP-A"))
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)


async def test_an_operator_may_change_and_command_inside_the_scope(world: World) -> None:
    resp = await world.operator_a.post("/stations/CP-A/reset", json={"type": "Soft"})
    assert resp.status_code == 409, resp.text  # allowed; the station is simply not connected
    resp = await world.operator_a.post("/operators", json={})
    assert resp.status_code == 403  # managing operators is an admin's job
