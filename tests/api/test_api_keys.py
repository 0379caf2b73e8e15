"""API keys: secret shown once, Bearer or X-API-Key, scoped by organisation and role, revocable,
expiring, last use recorded at most once a minute (issue 5)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from joule.kit.clock import FixedClock
from tests.api.conftest import NOW, Login
from tests.api.orgs import make_operator, ok

PREFIX = "http://joule.test/api/v1"


def keyed(app: FastAPI, key: str, *, header: str = "bearer") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PREFIX, headers=headers
    )


async def test_a_key_is_shown_once_and_works_as_bearer_and_header(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    issued = await ok(await admin.post("/api-keys", json={"name": "billing", "role": "operator"}))
    key = issued["key"]
    assert key.startswith(f"jk_{issued['prefix']}_") and len(key) > 40
    listed = (await ok(await admin.get("/api-keys"), 200))["items"]
    assert [k["prefix"] for k in listed] == [issued["prefix"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    for header in ("bearer", "x-api-key"):
        async with keyed(app, key, header=header) as client:
            assert (await client.get("/stations")).status_code == 200
            created = await client.post("/stations", json={"id": f"CP-KEY-{header}"})
            assert created.status_code == 201, created.text
    # The audit log names the key, never its secret.
    audit = (await ok(await admin.get("/audit", params={"object_type": "station"}), 200))["items"]
    assert {e["actor"] for e in audit} == {f"api-key:{issued['prefix']}"}
    assert key not in str(audit) and key.split("_", 2)[2] not in str(
        (await ok(await admin.get("/audit"), 200))["items"]
    )


async def test_wrong_revoked_and_expired_keys_are_401(
    app: FastAPI, admin: httpx.AsyncClient, clock: FixedClock
) -> None:
    issued = await ok(await admin.post("/api-keys", json={"name": "ci", "role": "viewer"}))
    key = issued["key"]
    async with keyed(app, key[:-2] + "xx") as forged, keyed(app, "jk_nope") as malformed:
        assert (await forged.get("/stations")).status_code == 401
        assert (await malformed.get("/stations")).status_code == 401
    async with keyed(app, key) as client:
        assert (await client.get("/stations")).status_code == 200
        assert (await client.post("/stations", json={"id": "CP-V"})).status_code == 403
        await ok(await admin.delete(f"/api-keys/{issued['id']}"), 204)
        resp = await client.get("/stations")
        assert resp.status_code == 401 and "revoked" in resp.json()["detail"]
    past = await admin.post(
        "/api-keys", json={"name": "old", "role": "viewer", "expires_at": "2020-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and "future" in past.text
    expiring = await ok(
        await admin.post(
            "/api-keys",
            json={
                "name": "temp",
                "role": "viewer",
                "expires_at": (NOW + timedelta(hours=1)).isoformat(),
            },
        )
    )
    async with keyed(app, expiring["key"]) as client:
        assert (await client.get("/stations")).status_code == 200
        clock.set(NOW + timedelta(hours=1))
        assert (await client.get("/stations")).status_code == 401


async def test_last_use_is_recorded_at_most_once_a_minute(
    app: FastAPI, admin: httpx.AsyncClient, clock: FixedClock
) -> None:
    issued = await ok(await admin.post("/api-keys", json={"name": "poller", "role": "viewer"}))

    async def last_used() -> str | None:
        keys = (await ok(await admin.get("/api-keys"), 200))["items"]
        value: str | None = next(k for k in keys if k["id"] == issued["id"])["last_used_at"]
        return value

    assert await last_used() is None
    async with keyed(app, issued["key"]) as client:
        await client.get("/stations")
        assert await last_used() == "2026-11-28T09:00:00Z"
        clock.set(NOW + timedelta(seconds=30))
        await client.get("/stations")
        assert await last_used() == "2026-11-28T09:00:00Z"  # within the minute: no write
        clock.set(NOW + timedelta(seconds=61))
        await client.get("/stations")
        assert await last_used() == "2026-11-28T09:01:01Z"


async def test_keys_are_scoped_to_their_organisation(
    app: FastAPI, admin: httpx.AsyncClient, login: Login
) -> None:
    for org in ("org-a", "org-b"):
        await ok(await admin.post("/organisations", json={"id": org, "name": org}))
        await ok(await admin.post("/stations", json={"id": f"CP-{org}", "organisation_id": org}))
    admin_a = await make_operator(admin, login, "a@example.test", "admin", "org-a")
    issued = await ok(await admin_a.post("/api-keys", json={"name": "a-int", "role": "operator"}))
    assert issued["organisation_id"] == "org-a"
    refused = await admin_a.post(
        "/api-keys", json={"name": "b-int", "role": "viewer", "organisation_id": "org-b"}
    )
    assert refused.status_code == 404
    async with keyed(app, issued["key"]) as client:
        listed = (await ok(await client.get("/stations"), 200))["items"]
        assert [s["id"] for s in listed] == ["CP-org-a"]
        assert (await client.get("/stations/CP-org-b")).status_code == 404
        assert (
            await client.post("/stations/CP-org-b/reset", json={"type": "Soft"})
        ).status_code == 404
        # An operator key cannot administer: keys, operators and the audit log are admin-only.
        assert (await client.get("/api-keys")).status_code == 403
    # Another organisation's admin neither lists nor revokes the key.
    admin_b = await make_operator(admin, login, "b@example.test", "admin", "org-b")
    assert (await ok(await admin_b.get("/api-keys"), 200))["items"] == []
    assert (await admin_b.delete(f"/api-keys/{issued['id']}")).status_code == 404
