"""Prometheus /metrics of a running Joule: stations, frames, latency, commands, alerts."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, eventually


async def scrape(joule: Joule) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient() as client:
        resp = await client.get(f"http://127.0.0.1:{joule.http_port}/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(resp.text)
        for sample in family.samples
    }


async def test_metrics_follow_the_traffic(joule: Joule, api: httpx.AsyncClient) -> None:
    await add_station(api, "MX-1")
    st = await TestStation.connect(
        ocpp_url(joule), "MX-1", subprotocols=["ocpp1.6"], password=PASSWORD
    )
    await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
    for _ in range(3):
        await st.call("Heartbeat", {})
    await st.call(
        "StatusNotification", {"connectorId": 1, "status": "Faulted", "errorCode": "OtherError"}
    )
    for made_up in ("MadeUpAction1", "MadeUpAction2"):
        frame = await st.call_frame(made_up, {})
        assert frame[0] == 4  # CALLERROR NotImplemented
    st.answers["Reset"] = lambda a, p: {"status": "Accepted"}
    assert (await api.post("/stations/MX-1/reset", json={"type": "Soft"})).status_code == 200

    async def open_alert() -> bool:
        return bool((await api.get("/alerts", params={"state": "open"})).json()["items"])

    assert joule.monitoring is not None
    await joule.monitoring.evaluator.evaluate()
    await eventually(open_alert)
    m = await scrape(joule)
    assert m[("joule_connected_stations", ())] == 1
    heartbeat_in = (("action", "Heartbeat"), ("direction", "in"), ("message_type", "2"))
    assert m[("joule_ocpp_frames_total", heartbeat_in)] == 3
    assert m[("joule_ocpp_handler_seconds_count", (("action", "Heartbeat"),))] == 3
    assert m[("joule_ocpp_handler_seconds_count", (("action", "BootNotification"),))] == 1
    assert m[("joule_commands_total", (("action", "Reset"), ("outcome", "answered")))] == 1
    assert m[("joule_alerts", (("rule", "connector_faulted"), ("state", "open")))] == 1
    # Made-up action names share one label; station ids never appear in one.
    other_in = (("action", "other"), ("direction", "in"), ("message_type", "2"))
    assert m[("joule_ocpp_frames_total", other_in)] == 2
    assert not [key for key in m if any("MadeUp" in value for _, value in key[1])]
    assert not [key for key in m if any("MX-1" in value for _, value in key[1])]

    await st.close()
    await eventually(lambda: _disconnected(joule))


async def _disconnected(joule: Joule) -> bool:
    return (await scrape(joule))[("joule_connected_stations", ())] == 0
