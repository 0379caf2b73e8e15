"""The dashboard's newer panels over plain HTTP against a real Joule: overview figures and map,
station uptime, live chart data, configuration read/edit, firmware and log requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from joule.domain.registry import sites
from joule.runtime import Joule
from joule.storage.uow import UnitOfWork
from tests.e2e.test_commands import booted
from tests.web.conftest import csrf_of


async def place_site(joule: Joule, site_id: str, lat: float, lon: float) -> None:
    assert joule.committer is not None

    async def work(uow: UnitOfWork) -> None:
        site = await sites.get_site(uow.session, site_id)
        site.latitude, site.longitude = lat, lon

    await joule.committer.run(work)


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_overview_shows_power_alerts_uptime_and_a_map(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    assert (
        await api.post(
            "/sites", json={"id": "harbour", "name": "Harbour <b>", "timezone": "Europe/Amsterdam"}
        )
    ).status_code == 201
    await place_site(joule, "harbour", 52.37, 4.9)  # no API for coordinates yet: the registry
    st = await booted(joule, api, "MAP-1", "1.6")
    assert (await api.patch("/stations/MAP-1", json={"site_id": "harbour"})).status_code == 200
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    )
    assert (await api.post("/tokens", json={"uid": "TAG-P"})).status_code == 201
    start = await st.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-P", "meterStart": 0, "timestamp": ago(2)},
    )
    await st.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": start["transactionId"],
            "meterValue": [
                {
                    "timestamp": ago(1),
                    "sampledValue": [
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                        {"value": "250", "measurand": "Energy.Active.Import.Register"},
                    ],
                }
            ],
        },
    )
    html = (await web.get("/ui/")).text
    assert 'data-count="power_now">7.4 kW<' in html
    assert 'data-count="open_alerts">0<' in html
    assert 'id="uptime-day">100.00 %<' in html
    assert 'svg class="fleet-map"' in html and 'data-marker="MAP-1"' in html
    assert "Harbour &lt;b&gt;" in html  # site names are escaped in the marker's title
    assert '<tr data-site="harbour"><td>harbour</td><td>100.00 %</td><td>100.00 %</td>' in html
    # Energy per day (issue 4): the active session's 250 Wh so far is one bar on its local day.
    assert 'svg class="energy-days"' in html and "(Europe/Amsterdam)" in html
    assert html.count('class="bar-energy"') == 1 and 'data-wh="250"' in html
    snap = (await web.get("/ui/live/snapshot", headers={"Accept": "application/json"})).json()
    assert snap["counts"]["power_now"] == "7.4 kW" and snap["counts"]["open_alerts"] == 0

    page = (await web.get("/ui/stations/MAP-1")).text
    assert 'data-uptime="day">100.00 %<' in page
    assert 'id="live-chart"' in page and 'data-samples="2"' in page
    assert 'data-line="power-1"' in page and 'data-line="energy-1"' in page
    assert page.count('class="bar-energy"') == 1 and 'data-wh="250"' in page
    assert "0.250 kWh (250 Wh), 1 session<" in page
    await st.close()


def answer_config(store: dict[str, str]) -> Any:
    def get(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        keys = payload.get("key") or sorted(store)
        known = [k for k in keys if k in store]
        return {
            "configurationKey": [
                {"key": k, "readonly": k == "NumberOfConnectors", "value": store[k]} for k in known
            ],
            "unknownKey": [k for k in keys if k not in store],
        }

    return get


async def test_configuration_is_read_and_edited_in_place(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "CFG-1", "1.6")
    store = {"HeartbeatInterval": "300", "NumberOfConnectors": "2", "LocalPreAuthorize": "false"}
    st.answers["GetConfiguration"] = answer_config(store)

    def change(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["key"] == "NumberOfConnectors":
            return {"status": "Rejected"}
        store[payload["key"]] = payload["value"]
        return {"status": "RebootRequired" if payload["key"] == "LocalPreAuthorize" else "Accepted"}

    st.answers["ChangeConfiguration"] = change
    page = await web.get("/ui/stations/CFG-1")
    assert 'id="config-table"' in page.text and "config.js" in page.text
    headers = {"X-CSRF-Token": csrf_of(page.text), "Accept": "application/json"}
    read = await web.post("/ui/stations/CFG-1/commands/config_read", data={}, headers=headers)
    assert read.status_code == 200, read.text
    rows = read.json()["answer"]["rows"]
    assert [(r["key"], r["value"], r["readonly"]) for r in rows] == [
        ("HeartbeatInterval", "300", False),
        ("LocalPreAuthorize", "false", False),
        ("NumberOfConnectors", "2", True),
    ]
    done = await web.post(
        "/ui/stations/CFG-1/commands/config_set",
        data={"key": "HeartbeatInterval", "value": "60"},
        headers=headers,
    )
    body = done.json()["answer"]
    assert body["status"] == "Accepted" and body["row"]["value"] == "60"
    assert st.received_calls[-2][2:] == [
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "60"},
    ]
    assert st.received_calls[-1][2:] == ["GetConfiguration", {"key": ["HeartbeatInterval"]}]
    reboot = await web.post(
        "/ui/stations/CFG-1/commands/config_set",
        data={"key": "LocalPreAuthorize", "value": "true"},
        headers=headers,
    )
    assert reboot.json()["answer"]["status"] == "RebootRequired"
    refused = await web.post(
        "/ui/stations/CFG-1/commands/config_set",
        data={"key": "NumberOfConnectors", "value": "9"},
        headers=headers,
    )
    assert refused.json()["answer"]["status"] == "Rejected"
    assert refused.json()["answer"]["row"]["value"] == "2"
    empty = await web.post("/ui/stations/CFG-1/commands/config_set", data={}, headers=headers)
    assert empty.status_code == 422 and "key" in empty.json()["detail"]
    await st.close()


async def test_firmware_and_diagnostics_requests(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "FW-1", "1.6")
    st.answers["UpdateFirmware"] = lambda action, payload: {}
    st.answers["GetDiagnostics"] = lambda action, payload: {"fileName": "diag.zip"}
    page = await web.get("/ui/stations/FW-1")
    assert 'data-command="firmware"' in page.text and "Get diagnostics" in page.text
    headers = {"X-CSRF-Token": csrf_of(page.text), "Accept": "application/json"}
    fw = await web.post(
        "/ui/stations/FW-1/commands/firmware",
        data={"location": "https://fw.example/a.bin", "retrieve_at": "2026-12-01T03:00"},
        headers=headers,
    )
    assert fw.status_code == 200, fw.text
    assert st.received_calls[-1][2] == "UpdateFirmware"
    assert st.received_calls[-1][3]["location"] == "https://fw.example/a.bin"
    assert st.received_calls[-1][3]["retrieveDate"].startswith("2026-12-01T03:00:00")
    diag = await web.post(
        "/ui/stations/FW-1/commands/diagnostics",
        data={"location": "ftp://logs.example/up/", "log_type": "DiagnosticsLog"},
        headers=headers,
    )
    assert diag.json()["answer"]["fileName"] == "diag.zip"
    assert st.received_calls[-1][2:] == ["GetDiagnostics", {"location": "ftp://logs.example/up/"}]
    bad = await web.post(
        "/ui/stations/FW-1/commands/firmware", data={"location": "not a url"}, headers=headers
    )
    assert bad.status_code == 422 and "URL" in bad.json()["detail"]
    await st.call("FirmwareStatusNotification", {"status": "Downloading"})
    again = (await web.get("/ui/stations/FW-1")).text
    assert 'id="firmware-status">Downloading<' in again
    assert "FirmwareStatusNotification" in again
    await st.close()
