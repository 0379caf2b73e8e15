"""The audit log API: admin only, filtered, scoped, newest first, secrets never stored (issue 5)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from joule.kit.clock import FixedClock
from tests.api.conftest import ADMIN_EMAIL, NOW, STATION_PASSWORD, Login
from tests.api.orgs import make_operator, ok


async def test_filters_order_and_redaction(
    admin: httpx.AsyncClient, login: Login, clock: FixedClock
) -> None:
    await ok(await admin.post("/sites", json={"id": "s1", "name": "One"}))
    clock.set(NOW + timedelta(minutes=5))
    await ok(await admin.post("/stations", json={"id": "CP-1", "password": STATION_PASSWORD}))
    await ok(await admin.patch("/stations/CP-1", json={"registration": "rejected"}), 200)
    entries = (await ok(await admin.get("/audit"), 200))["items"]
    assert [e["action"] for e in entries] == ["station.update", "station.create", "site.create"]
    assert all(e["actor"] == ADMIN_EMAIL and e["actor_type"] == "operator" for e in entries)
    assert STATION_PASSWORD not in str(entries)
    assert entries[1]["changes"]["has_password"] is True
    assert entries[0]["changes"] == {"registration": "rejected"}

    async def actions(**params: str) -> list[str]:
        page = await ok(await admin.get("/audit", params=params), 200)
        return [e["action"] for e in page["items"]]

    assert await actions(object_type="station", object_id="CP-1") == [
        "station.update",
        "station.create",
    ]
    assert await actions(actor="nobody@example.test") == []
    assert await actions(**{"from": "2026-11-28T09:01:00Z"}) == ["station.update", "station.create"]
    assert await actions(**{"to": "2026-11-28T09:01:00"}) == ["site.create"]  # no offset = UTC
    bad = await admin.get("/audit", params={"from": "yesterday"})
    assert bad.status_code == 422


async def test_only_admins_read_it(admin: httpx.AsyncClient, login: Login) -> None:
    for role in ("operator", "viewer"):
        client = await make_operator(admin, login, f"{role}@example.test", role, None)
        assert (await client.get("/audit")).status_code == 403
