"""Transactions over the API: live energy while active, exact Wh, meter values, filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from tests.api.conftest import NOW, add_station, station_says

V16, V201 = OcppVersion.V16, OcppVersion.V201
TX_FIELDS = {
    "id",
    "station_id",
    "evse_id",
    "connector_id",
    "status",
    "id_token",
    "started_at",
    "stopped_at",
    "energy_wh",
    "energy_wh_exact",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
    "transaction_uid",
    "incomplete",
    "missing_seq_nos",
    "auth_status",
    "auth_reason",
    "offline",
    "stale",
}


def _register(value: str, unit: str = "Wh") -> dict[str, Any]:
    return {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}


async def _start_16(committer: GroupCommitter, station_id: str, connector: int, at: str) -> int:
    answer = await station_says(
        committer,
        station_id,
        V16,
        "StartTransaction",
        {"connectorId": connector, "idTag": "DRIVER", "meterStart": 1000, "timestamp": at},
    )
    tx_id: int = answer["transactionId"]
    return tx_id


async def test_live_then_final_energy_for_a_16_session(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-TX")
    await operator.post("/tokens", json={"uid": "DRIVER"})
    tx = await _start_16(committer, "CS-TX", 1, "2026-11-28T08:00:00Z")
    await station_says(
        committer,
        "CS-TX",
        V16,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T08:15:00Z",
                    "sampledValue": [
                        _register("2.5005", "kWh"),
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                },
            ],
        },
    )
    listed = await viewer.get("/transactions", params={"station_id": "CS-TX", "status": "active"})
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert set(item) == TX_FIELDS
    assert item["id"] == tx and item["transaction_uid"] == str(tx)
    assert (item["status"], item["evse_id"], item["connector_id"]) == ("active", 1, 1)
    assert item["id_token"] == "DRIVER"
    assert item["started_at"] == "2026-11-28T08:00:00Z" and item["stopped_at"] is None
    # Live: latest register (2500.5 Wh) − start (1000 Wh) = 1500.5 Wh → 1501 shown, exact kept.
    assert item["energy_wh"] == 1501 and item["energy_wh_exact"] == "1500.5"
    assert item["meter_start_wh"] == "1000" and item["meter_stop_wh"] is None
    assert item["incomplete"] is False

    await station_says(
        committer,
        "CS-TX",
        V16,
        "StopTransaction",
        {
            "transactionId": tx,
            "meterStop": 3200,
            "timestamp": "2026-11-28T08:30:00Z",
            "reason": "EVDisconnected",
            "idTag": "DRIVER",
        },
        at=NOW + timedelta(minutes=1),
    )
    detail = await viewer.get(f"/transactions/{tx}")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == TX_FIELDS | {"meter_values"}
    assert body["status"] == "completed" and body["stop_reason"] == "EVDisconnected"
    assert body["stopped_at"] == "2026-11-28T08:30:00Z"
    assert body["energy_wh"] == 2200 and body["energy_wh_exact"] == "2200"
    assert body["meter_stop_wh"] == "3200"
    samples = {(m["measurand"], m["unit"]): m for m in body["meter_values"]}
    energy = samples[("Energy.Active.Import.Register", "Wh")]
    assert (
        energy["value"] == "2500.5"
        and energy["raw_value"] == "2.5005"
        and energy["raw_unit"] == "kWh"
    )
    assert energy["timestamp"] == "2026-11-28T08:15:00Z"
    assert samples[("Power.Active.Import", "W")]["value"] == "7400"
    assert set(energy) == {
        "timestamp",
        "measurand",
        "phase",
        "location",
        "context",
        "value",
        "unit",
        "raw_value",
        "raw_unit",
        "signed_data",
    }
    assert (await viewer.get("/transactions", params={"status": "active"})).json()["total"] == 0
    done = await viewer.get("/transactions", params={"status": "completed"})
    assert [t["id"] for t in done.json()["items"]] == [tx]


async def test_incomplete_20_transaction_and_filters(
    operator: httpx.AsyncClient, viewer: httpx.AsyncClient, committer: GroupCommitter
) -> None:
    await add_station(operator, "CS-2X")
    await add_station(operator, "CS-OTHER")
    base: dict[str, Any] = {
        "transactionInfo": {"transactionId": "UID-9"},
        "evse": {"id": 2, "connectorId": 1},
    }
    # Started (seqNo 0) and Ended (seqNo 3) arrived, Updated 1 and 2 did not (E §1.3.2).
    for seq_no, event_type, at, trigger in (
        (0, "Started", "07:10", "CablePluggedIn"),
        (3, "Ended", "07:20", "EVDeparted"),
    ):
        event = {
            **base,
            "eventType": event_type,
            "timestamp": f"2026-11-28T{at}:00Z",
            "triggerReason": trigger,
            "seqNo": seq_no,
        }
        assert await station_says(committer, "CS-2X", V201, "TransactionEvent", event) == {}
    await _start_16(committer, "CS-OTHER", 1, "2026-11-28T08:00:00Z")
    items = (await viewer.get("/transactions", params={"station_id": "CS-2X"})).json()["items"]
    [item] = items
    assert item["transaction_uid"] == "UID-9" and item["evse_id"] == 2
    assert item["status"] == "completed"
    assert item["incomplete"] is True and item["missing_seq_nos"] == "1,2"
    assert item["energy_wh"] is None and item["energy_wh_exact"] is None

    async def ids(**params: str) -> list[str]:
        resp = await viewer.get("/transactions", params=params)
        assert resp.status_code == 200, resp.text
        return [t["station_id"] for t in resp.json()["items"]]

    assert await ids() == ["CS-OTHER", "CS-2X"]  # newest start first
    assert await ids(since="2026-11-28T07:30:00Z") == ["CS-OTHER"]
    assert await ids(until="2026-11-28T08:30:00+01:00") == ["CS-2X"]  # 07:30 UTC
    assert (await viewer.get("/transactions", params={"status": "open"})).status_code == 422
    naive = await viewer.get("/transactions", params={"since": "2026-11-28T07:30:00"})
    assert naive.status_code == 422
    capped = (await viewer.get("/transactions", params={"limit": 100_000})).json()
    assert capped["limit"] == 500 and capped["total"] == 2


async def test_unknown_transaction_is_404(viewer: httpx.AsyncClient) -> None:
    resp = await viewer.get("/transactions/4242")
    assert resp.status_code == 404
    assert resp.json()["detail"] == "transaction 4242 does not exist"
    assert (await viewer.get("/transactions/not-a-number")).status_code == 422
