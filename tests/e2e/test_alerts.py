"""Alerts end to end: a real Joule, real stations, a webhook receiver and an SMTP server.

Faulted connector → alert, signed webhook, e-mail; acknowledge; Available → auto-resolved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_alerts_receivers import SmtpReceiver, WebhookReceiver
from tests.e2e.test_charging_session import PASSWORD, add_station, eventually

SECRET = "a-webhook-secret-of-32-characters"


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


def signature_ok(secret: str, header: str, body: bytes) -> bool:
    """Check the signature the way a receiver would, from the documented scheme alone."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


async def boot16(joule: Joule, api: httpx.AsyncClient, sid: str) -> TestStation:
    await add_station(api, sid)
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=["ocpp1.6"], password=PASSWORD
    )
    await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M1"})
    return st


def status16(connector: int, status: str, error: str = "NoError") -> dict[str, Any]:
    return {"connectorId": connector, "status": status, "errorCode": error}


async def alerts(api: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    resp = await api.get("/alerts", params=filters)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_faulted_connector_alert_is_delivered_acknowledged_and_resolves(
    make_joule: MakeJoule, hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    joule = await make_joule(
        alert_interval_s=0.2, smtp_host="127.0.0.1", smtp_port=smtp.port, webhook_backoff_s=0.05
    )
    api = await api_client(joule)
    try:
        resp = await api.post(
            "/webhooks", json={"url": hook.url, "secret": SECRET, "rules": ["connector_faulted"]}
        )
        assert resp.status_code == 201, resp.text
        webhook = resp.json()
        assert "secret" not in webhook
        resp = await api.post(
            "/alert-subscriptions",
            json={"email": "ops@example.test", "rules": ["connector_faulted"]},
        )
        assert resp.status_code == 201, resp.text

        st = await boot16(joule, api, "AL-1")
        await st.call("StatusNotification", status16(1, "Faulted", "GroundFailure"))

        [alert] = await eventually(lambda: alerts(api, state="open", station_id="AL-1"))
        assert alert["rule"] == "connector_faulted"
        assert alert["target"] == "AL-1/1/1"
        assert alert["details"]["error_code"] == "GroundFailure"

        # De-duplicated: a second Faulted notification refreshes the same alert.
        await st.call("StatusNotification", status16(1, "Faulted", "GroundFailure"))
        assert joule.monitoring is not None
        await joule.monitoring.evaluator.evaluate()
        assert len(await alerts(api, station_id="AL-1")) == 1

        request = await eventually(lambda: _first(hook))
        assert request.headers["x-joule-event"] == "alert.raised"
        assert signature_ok(SECRET, request.headers["x-joule-signature"], request.body)
        assert not signature_ok(
            "another-secret-another-secret!!", request.headers["x-joule-signature"], request.body
        )
        assert json.loads(request.body)["alert"]["id"] == alert["id"]

        [(to, message)] = await eventually(lambda: _mails(smtp))
        assert to == ["ops@example.test"]
        assert "GroundFailure" in message["Subject"]

        resp = await api.post(f"/alerts/{alert['id']}/acknowledge")
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == "acknowledged"
        assert resp.json()["acknowledged_by"] == "admin@example.test"

        await st.call("StatusNotification", status16(1, "Available"))
        [resolved] = await eventually(lambda: alerts(api, state="resolved", station_id="AL-1"))
        assert resolved["id"] == alert["id"]
        assert resolved["resolved_at"] is not None
        assert (await api.post(f"/alerts/{alert['id']}/acknowledge")).status_code == 409

        events = await eventually(lambda: _events(hook, 2))
        assert events == ["alert.raised", "alert.resolved"]
        resp = await api.get(f"/webhooks/{webhook['id']}/deliveries")
        assert resp.status_code == 200
        log = resp.json()["items"]
        assert {(d["event"], d["delivered"], d["status_code"]) for d in log} == {
            ("alert.raised", True, 200),
            ("alert.resolved", True, 200),
        }
        await st.close()
    finally:
        await api.aclose()


async def test_failed_webhook_deliveries_are_retried_and_logged(
    make_joule: MakeJoule, hook: WebhookReceiver
) -> None:
    hook.statuses = [500, 503]
    joule = await make_joule(alert_interval_s=0.2, webhook_backoff_s=0.05, webhook_attempts=4)
    api = await api_client(joule)
    try:
        resp = await api.post("/webhooks", json={"url": hook.url, "secret": SECRET})
        webhook_id = resp.json()["id"]
        st = await boot16(joule, api, "AL-2")
        await st.call("StatusNotification", status16(0, "Faulted", "PowerMeterFailure"))
        await eventually(lambda: _events(hook, 3))

        async def three() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = (
                await api.get(f"/webhooks/{webhook_id}/deliveries")
            ).json()["items"]
            return items if len(items) == 3 else None

        log = await eventually(three)
        assert [(d["attempt"], d["status_code"], d["delivered"]) for d in reversed(log)] == [
            (1, 500, False),
            (2, 503, False),
            (3, 200, True),
        ]
        # The same delivery id on every attempt: the receiver can de-duplicate.
        assert len({r.headers["x-joule-delivery"] for r in hook.requests}) == 1
        await st.close()
    finally:
        await api.aclose()


async def test_webhook_urls_to_metadata_addresses_are_refused(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/",
        "ftp://example.test/hook",
        "http://user:pw@127.0.0.1/hook",
    ):
        resp = await api.post("/webhooks", json={"url": url, "secret": SECRET})
        assert resp.status_code == 422, (url, resp.text)
    assert (await api.get("/webhooks")).json() == []


async def _first(hook: WebhookReceiver) -> Any:
    return hook.requests[0] if hook.requests else None


async def _mails(smtp: SmtpReceiver) -> Any:
    return smtp.messages or None


async def _events(hook: WebhookReceiver, n: int) -> list[str] | None:
    events = [r.headers["x-joule-event"] for r in hook.requests]
    return events if len(events) >= n else None
