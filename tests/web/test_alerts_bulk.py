"""The alerts page and bulk actions over plain HTTP against a real Joule and real stations."""

from __future__ import annotations

from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.test_charging_session import eventually
from tests.e2e.test_commands import booted
from tests.web.conftest import csrf_of, web_login

JSON = {"Accept": "application/json"}


async def test_alerts_page_lists_filters_and_acknowledges(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "AL-W1", "1.6")
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}
    )

    async def raised() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await api.get("/alerts", params={"state": "open"})).json()[
            "items"
        ]
        return items

    # The status event wakes the evaluator; on a loaded CI box (both suites side by side) that
    # took over 5 s once. 20 s also covers a missed wake-up: the periodic pass is every 15 s.
    [alert] = await eventually(raised, timeout=20.0)
    page = await web.get("/ui/alerts", params={"state": "open"})
    assert page.status_code == 200
    assert f'data-alert="{alert["id"]}"' in page.text and "GroundFailure" in page.text
    assert f'data-ack="{alert["id"]}"' in page.text and "alerts.js" in page.text
    bad = await web.get("/ui/alerts", params={"state": "sleeping"})
    assert bad.status_code == 422 and "state must be one of" in bad.text

    headers = {"X-CSRF-Token": csrf_of(page.text), **JSON}
    ack = await web.post(f"/ui/alerts/{alert['id']}/acknowledge", headers=headers)
    assert ack.status_code == 200, ack.text
    assert ack.json()["alert"]["state"] == "acknowledged"
    assert ack.json()["alert"]["acknowledged_by"] == "admin@example.test"
    table = await web.get("/ui/alerts/table", params={"state": "acknowledged"})
    assert f'data-alert="{alert["id"]}"' in table.text and "data-ack=" not in table.text
    assert (await web.post("/ui/alerts/999999/acknowledge", headers=headers)).status_code == 404
    assert (await web.post(f"/ui/alerts/{alert['id']}/acknowledge")).status_code == 403  # no CSRF

    created = await api.post(
        "/operators",
        json={"email": "viewer@example.test", "password": "viewer-password-1", "role": "viewer"},
    )
    assert created.status_code == 201
    viewer = await web_login(joule, "viewer@example.test", "viewer-password-1")
    seen = await viewer.get("/ui/alerts")
    assert seen.status_code == 200 and "data-ack=" not in seen.text
    refused = await viewer.post(
        f"/ui/alerts/{alert['id']}/acknowledge",
        headers={"X-CSRF-Token": csrf_of(seen.text), **JSON},
    )
    assert refused.status_code == 403
    await viewer.aclose()
    await st.close()


async def test_bulk_reset_from_the_dashboard(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    ok = await booted(joule, api, "BW-1", "1.6")
    no = await booted(joule, api, "BW-2", "2.0.1")
    ok.answers["Reset"] = lambda action, payload: {"status": "Accepted"}
    no.answers["Reset"] = lambda action, payload: {"status": "Rejected"}
    page = await web.get("/ui/")
    assert 'id="bulk"' in page.text and 'value="BW-1" form="bulk"' in page.text
    headers = {"X-CSRF-Token": csrf_of(page.text), **JSON}
    started = await web.post(
        "/ui/bulk/reset",
        data={"station_id": ["BW-1", "BW-2", "NOPE"], "type": "Hard"},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]["id"]

    async def done() -> dict[str, Any] | None:
        job: dict[str, Any] = (await web.get(f"/ui/bulk/{job_id}", headers=JSON)).json()
        return job if job["state"] == "done" else None

    job = await eventually(done)
    by_id = {r["station_id"]: r for r in job["results"]}
    assert by_id["BW-1"]["response"] == {"status": "Accepted"}
    assert by_id["BW-2"]["response"] == {"status": "Rejected"}
    assert by_id["NOPE"]["outcome"] == "not_found"
    assert ok.received_calls[-1][2:] == ["Reset", {"type": "Hard"}]
    assert no.received_calls[-1][2:] == ["Reset", {"type": "Immediate"}]  # 2.x translation

    nothing = await web.post("/ui/bulk/reset", data={"type": "Soft"}, headers=headers)
    assert nothing.status_code == 422 and "tick at least one station" in nothing.json()["detail"]
    unknown = await web.post("/ui/bulk/explode", data={"station_id": "BW-1"}, headers=headers)
    assert unknown.status_code == 404
    assert (await web.get("/ui/bulk/nope", headers=JSON)).status_code == 404
    await ok.close()
    await no.close()
