"""A small world of two organisations for scope and role tests (issue 5).

    cpo-a ── a-host          cpo-b
      site-a: CP-A             site-b: CP-B
      CP-A-LOOSE (no site, owned by a-host)

Operators: admin-a (admin of cpo-a), viewer-a, operator-a, admin-b (admin of cpo-b), all made by the
root admin through the API, so the world is built the way a deployment builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import PASSWORD, Login, station_says


@dataclass
class World:
    """The clients and object ids of the two-organisation world."""

    root: httpx.AsyncClient
    admin_a: httpx.AsyncClient
    operator_a: httpx.AsyncClient
    viewer_a: httpx.AsyncClient
    admin_b: httpx.AsyncClient
    tx_a: int
    tx_b: int


async def ok(resp: httpx.Response, status: int = 201) -> dict[str, Any]:
    """The JSON body after asserting the status."""
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json() if resp.content else {}
    return body


async def make_operator(
    admin: httpx.AsyncClient, login: Login, email: str, role: str, org: str | None, **extra: Any
) -> httpx.AsyncClient:
    """Create an operator through the API and log in as them."""
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "role": role, **extra}
    if org is not None:
        body["organisation_id"] = org
    await ok(await admin.post("/operators", json=body))
    return await login(email, PASSWORD)


async def start_session(committer: GroupCommitter, station_id: str, id_tag: str) -> int:
    """A 1.6 StartTransaction through the real dispatcher; the session's id."""
    answer = await station_says(
        committer,
        station_id,
        OcppVersion.V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": id_tag, "meterStart": 0, "timestamp": "2026-11-28T08:00:00Z"},
    )
    tx_id: int = answer["transactionId"]
    return tx_id


async def build_world(root: httpx.AsyncClient, login: Login, committer: GroupCommitter) -> World:
    """Organisations, sites, stations, operators and one session per organisation."""
    await ok(await root.post("/organisations", json={"id": "cpo-a", "name": "CPO A"}))
    await ok(await root.post("/organisations", json={"id": "cpo-b", "name": "CPO B"}))
    await ok(
        await root.post(
            "/organisations", json={"id": "a-host", "name": "Host of A", "parent_id": "cpo-a"}
        )
    )
    for site, org in (("site-a", "cpo-a"), ("site-b", "cpo-b")):
        await ok(await root.post("/sites", json={"id": site, "name": site, "organisation_id": org}))
    await ok(await root.post("/stations", json={"id": "CP-A", "site_id": "site-a"}))
    await ok(await root.post("/stations", json={"id": "CP-B", "site_id": "site-b"}))
    await ok(await root.post("/stations", json={"id": "CP-A-LOOSE", "organisation_id": "a-host"}))
    for uid in ("ROOT-A", "ROOT-B"):  # network-wide tokens (no organisation): valid everywhere
        await ok(await root.post("/tokens", json={"uid": uid}))
    tx_a = await start_session(committer, "CP-A", "ROOT-A")
    tx_b = await start_session(committer, "CP-B", "ROOT-B")
    return World(
        root=root,
        admin_a=await make_operator(root, login, "admin-a@example.test", "admin", "cpo-a"),
        operator_a=await make_operator(root, login, "operator-a@example.test", "operator", "cpo-a"),
        viewer_a=await make_operator(root, login, "viewer-a@example.test", "viewer", "cpo-a"),
        admin_b=await make_operator(root, login, "admin-b@example.test", "admin", "cpo-b"),
        tx_a=tx_a,
        tx_b=tx_b,
    )
