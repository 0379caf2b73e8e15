"""Alert API: rules and thresholds, alert lists with filters, acknowledge, webhooks, subscriptions,
roles, and the 4xx a client gets for a bad request."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from joule.api.monitoring import install
from joule.domain.alerting import service
from joule.domain.alerting.rules import Finding
from joule.domain.command.bulk import BulkRunner
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork
from tests.api.conftest import NOW

SECRET = "webhook-secret-0123456789"


@pytest.fixture(autouse=True)
def monitored(app: FastAPI, committer: GroupCommitter, clock: FixedClock) -> FastAPI:
    """The API app with the monitoring routes, as the runtime installs them."""
    install(app, bulk_runner=BulkRunner(committer, clock, concurrency=2))
    return app


async def raise_alerts(committer: GroupCommitter, *found: Finding) -> list[int]:
    async def work(uow: UnitOfWork) -> list[int]:
        changes = await service.reconcile(uow, list(found), now=NOW)
        return [int(c.alert["id"]) for c in changes]

    return await committer.run(work)


def fault(station: str, site: str | None = None) -> Finding:
    return Finding("connector_faulted", f"{station}/1/1", station, site, "critical", "Faulted", {})


async def test_rules_list_and_thresholds(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    resp = await viewer.get("/alert-rules")
    assert resp.status_code == 200
    by_rule = {r["rule"]: r for r in resp.json()}
    assert by_rule["station_offline"]["params"] == {"minutes": 10}
    assert by_rule["boot_loop"]["defaults"] == {"boots": 5, "minutes": 30}
    assert by_rule["uptime_below"]["params"] == {"percent": 97, "days": 7}
    assert len(by_rule) == 10

    assert (
        await viewer.patch("/alert-rules/boot_loop", json={"enabled": False})
    ).status_code == 403
    resp = await admin.patch("/alert-rules/boot_loop", json={"params": {"boots": 3}})
    assert resp.status_code == 200
    assert resp.json()["params"] == {"boots": 3, "minutes": 30}
    for body in ({"params": {"boots": 0}}, {"params": {"hours": 1}}, {"severity": "x"}):
        assert (await admin.patch("/alert-rules/boot_loop", json=body)).status_code == 422
    assert (await admin.patch("/alert-rules/nope", json={"enabled": True})).status_code == 404


async def test_alert_list_filters_and_acknowledge(
    committer: GroupCommitter,
    admin: httpx.AsyncClient,
    operator: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
) -> None:
    first, second = await raise_alerts(committer, fault("A-1", "S1"), fault("B-1", "S2"))
    resp = await viewer.get("/alerts", params={"state": "open"})
    assert resp.json()["total"] == 2
    resp = await viewer.get("/alerts", params={"station_id": "A-1"})
    assert [a["id"] for a in resp.json()["items"]] == [first]
    resp = await viewer.get("/alerts", params={"site_id": "S2", "rule": "connector_faulted"})
    assert [a["id"] for a in resp.json()["items"]] == [second]
    assert (await viewer.get("/alerts", params={"state": "bogus"})).status_code == 422
    assert (await viewer.get("/alerts", params={"limit": 10**6})).json()["limit"] == 500

    assert (await viewer.post(f"/alerts/{first}/acknowledge")).status_code == 403
    resp = await operator.post(f"/alerts/{first}/acknowledge")
    assert resp.status_code == 200
    assert resp.json()["acknowledged_by"] == "operator@example.test"
    assert resp.json()["raised_at"].endswith("+00:00") or resp.json()["raised_at"].endswith("Z")
    resp = await viewer.get("/alerts", params={"state": "acknowledged"})
    assert [a["id"] for a in resp.json()["items"]] == [first]
    assert (await admin.post("/alerts/9999/acknowledge")).status_code == 404
    assert (await admin.get(f"/alerts/{second}")).json()["station_id"] == "B-1"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/",
        "gopher://127.0.0.1/",
        "http:///nohost",
        "http://127.0.0.1:99999/",
    ],
)
async def test_webhook_urls_that_are_refused(admin: httpx.AsyncClient, url: str) -> None:
    resp = await admin.post("/webhooks", json={"url": url, "secret": SECRET})
    assert resp.status_code == 422, resp.text


async def test_webhooks_are_for_admins_and_never_show_their_secret(
    admin: httpx.AsyncClient, operator: httpx.AsyncClient
) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "secret": SECRET, "rules": ["station_offline"]}
    assert (await operator.post("/webhooks", json=body)).status_code == 403
    resp = await admin.post("/webhooks", json=body)
    assert resp.status_code == 201, resp.text
    hook = resp.json()
    assert "secret" not in hook
    assert hook["rules"] == ["station_offline"]
    assert (await admin.post("/webhooks", json={**body, "rules": ["nope"]})).status_code == 422
    assert (await admin.post("/webhooks", json={**body, "secret": "short"})).status_code == 422
    listed = (await admin.get("/webhooks")).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert SECRET not in str(listed)
    resp = await admin.get(f"/webhooks/{hook['id']}/deliveries")
    assert resp.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert (await admin.get("/webhooks/999/deliveries")).status_code == 404
    assert (await admin.delete(f"/webhooks/{hook['id']}")).status_code == 204
    assert (await admin.delete(f"/webhooks/{hook['id']}")).status_code == 404


async def test_email_subscriptions(operator: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    body = {"email": "ops@example.test", "site_id": "S1", "rules": ["security_event"]}
    assert (await viewer.post("/alert-subscriptions", json=body)).status_code == 403
    resp = await operator.post("/alert-subscriptions", json=body)
    assert resp.status_code == 201
    sub = resp.json()
    assert (sub["email"], sub["site_id"], sub["rules"]) == (
        "ops@example.test",
        "S1",
        ["security_event"],
    )
    assert (await operator.post("/alert-subscriptions", json={"email": "nope"})).status_code == 422
    assert [s["id"] for s in (await viewer.get("/alert-subscriptions")).json()] == [sub["id"]]
    assert (await operator.delete(f"/alert-subscriptions/{sub['id']}")).status_code == 204
    assert (await viewer.get("/alert-subscriptions")).json() == []


async def test_bulk_requests_are_checked(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    body = {"station_ids": ["X"], "params": {"type": "Soft"}}
    assert (await anon.post("/bulk/reset", json=body)).status_code == 401
    assert (await viewer.post("/bulk/reset", json=body)).status_code == 403
    both = {**body, "filter": {"site_id": "S1"}}
    assert (await admin.post("/bulk/reset", json=both)).status_code == 422
    assert (await admin.post("/bulk/reset", json={**body, "params": {}})).status_code == 422
    resp = await admin.post("/bulk/reset", json=body)
    assert resp.status_code == 202
    assert resp.json()["results"][0]["station_id"] == "X"
