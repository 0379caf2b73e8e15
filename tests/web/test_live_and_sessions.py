"""Live updates over SSE from real bus events, and the sessions pages with chart and OCPP trail."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.test_charging_session import add_token, eventually
from tests.e2e.test_commands import booted


async def next_event(lines: Any, name: str) -> dict[str, Any]:
    """Read SSE lines until an event of this name arrives; its JSON data."""
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == name:
            data: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return data
    raise AssertionError(f"stream ended before {name}")


async def test_a_status_notification_reaches_the_open_page_within_a_second(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "LIVE-1", "2.0.1")
    other = await booted(joule, api, "LIVE-2", "1.6")
    headers = {"Accept": "text/event-stream"}
    params = {"station_id": "LIVE-1"}
    async with web.stream("GET", "/ui/live/events", params=params, headers=headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = resp.aiter_lines()
        await next_event(lines, "hello")
        # Another station's event is not sent to this station's page.
        await other.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}
        )
        sent = asyncio.get_running_loop().time()
        await st.call(
            "StatusNotification",
            {
                "timestamp": datetime.now(UTC).isoformat(),
                "connectorStatus": "Faulted",
                "evseId": 1,
                "connectorId": 1,
            },
        )
        # Pushed at once, not on some later refresh: a second is the goal (Issue 4), 5 s the
        # bound a loaded CI box (both suites on two cores) can keep; no event is a failure.
        data = await asyncio.wait_for(next_event(lines, "ConnectorStatusChanged"), 20)
        assert asyncio.get_running_loop().time() - sent < 5.0
        assert data["station_id"] == "LIVE-1" and data["status"] == "Faulted"
        assert data["evse_id"] == 1 and data["connector_id"] == 1
    await st.close()
    await other.close()


async def test_stopping_joule_ends_open_streams(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    async with web.stream("GET", "/ui/live/events") as resp:
        lines = resp.aiter_lines()
        await next_event(lines, "hello")
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(joule.stop(), 30)
        # An open dashboard must not hold the HTTP server's shutdown for its 10 s bound (2 s
        # short of it: a loaded CI box's stalls fit in, a shutdown that waited for it does not).
        assert asyncio.get_running_loop().time() - started < 8


def _at(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_sessions_list_filters_and_detail_with_chart_and_trail(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "SES-1", "1.6")
    await add_token(api, "TAG-WEB")
    start = await st.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-WEB", "meterStart": 1000, "timestamp": _at(-10)},
    )
    tx_id = start["transactionId"]
    for minute, wh, kw in ((-8, 1500, "7.2"), (-5, 2100, "11.0"), (-2, 2700, "10.5")):
        await st.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [
                    {
                        "timestamp": _at(minute),
                        "sampledValue": [
                            {
                                "value": str(wh),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {"value": kw, "measurand": "Power.Active.Import", "unit": "kW"},
                        ],
                    }
                ],
            },
        )
    listed = await web.get("/ui/sessions", params={"station_id": "SES-1", "status": "active"})
    assert listed.status_code == 200 and "TAG-WEB" in listed.text and "1.700 kWh" in listed.text
    pk = (await api.get("/transactions", params={"station_id": "SES-1"})).json()["items"][0]["id"]
    await st.call(
        "StopTransaction",
        {"transactionId": tx_id, "meterStop": 3000, "timestamp": _at(0), "reason": "Local"},
    )
    none_active = await web.get("/ui/sessions", params={"station_id": "SES-1", "status": "active"})
    assert "No sessions." in none_active.text
    bad = await web.get("/ui/sessions", params={"since": "yesterday"})
    assert bad.status_code == 422 and "ISO-8601" in bad.text

    async def trail_complete() -> str | None:
        # The message log is written by the activity recorder in batches (every 0.5 s).
        page = (await web.get(f"/ui/sessions/{pk}")).text
        trail = page[page.index("Raw OCPP trail") :]
        return page if "StopTransaction" in trail else None

    html = await eventually(trail_complete)
    assert "2.000 kWh" in html and "Local" in html
    assert 'class="line-power"' in html and 'class="line-energy"' in html
    # The raw trail: the station's frames of this session, in time order.
    trail = html[html.index("Raw OCPP trail") :]
    assert trail.index("StartTransaction") < trail.index("MeterValues")
    assert trail.index("MeterValues") < trail.index("StopTransaction")
    assert (await web.get("/ui/sessions/999999")).status_code == 404
    await st.close()
