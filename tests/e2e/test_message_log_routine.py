"""The message log keeps one routine Heartbeat and MeterValues exchange a minute per station,
and every exchange that was not routine (ADR 0019) — over a real socket, read over the API."""

from __future__ import annotations

from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.test_charging_session import add_token, eventually
from tests.e2e.test_robustness_input import online_station

REGISTER = "Energy.Active.Import.Register"


def meter_values(tx: int, at: str, wh: Any) -> dict[str, Any]:
    sample = {"value": wh, "measurand": REGISTER, "unit": "Wh"}
    return {
        "connectorId": 1,
        "transactionId": tx,
        "meterValue": [{"timestamp": at, "sampledValue": [sample]}],
    }


async def test_routine_meter_values_and_heartbeats_once_a_minute(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    st = await online_station(joule, api, "LOG-MV", "1.6")
    await add_token(api, "TAG-LOG")
    start = await st.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-LOG",
            "meterStart": 1000,
            "timestamp": "2026-11-28T08:00:00Z",
        },
    )
    tx = start["transactionId"]
    sent: list[str] = []

    async def send(message_id: str, payload: dict[str, Any]) -> list[Any]:
        sent.append(message_id)
        return await st.call_frame("MeterValues", payload, message_id=message_id)

    assert (await send("mv1", meter_values(tx, "2026-11-28T08:01:00Z", "1100")))[0] == 3
    assert (await send("mv2", meter_values(tx, "2026-11-28T08:02:00Z", "1200")))[0] == 3
    # Q13: a number where 1.6 wants a string — repaired, so logged whole.
    assert (await send("mv3", meter_values(tx, "2026-11-28T08:03:00Z", 1300)))[0] == 3
    assert (await send("mv4", meter_values(tx, "2026-11-28T08:04:00Z", "1400")))[0] == 3
    # Refused (the timestamp is no date-time): the CALL and its CALLERROR are logged.
    refused = await send("mv5", meter_values(tx, "yesterday", "1500"))
    assert refused[0] == 4
    assert (await send("mv6", meter_values(tx, "2026-11-28T08:06:00Z", "1600")))[0] == 3
    for n in range(3):
        await st.call("Heartbeat", {}, message_id=f"hb{n}")
    # Lenient by default: the unknown property is stripped — a repaired frame, logged whole.
    assert "currentTime" in await st.call("Heartbeat", {"unexpected": True}, message_id="hb-odd")

    async def logged() -> list[tuple[str, str, int]] | None:
        resp = await api.get("/stations/LOG-MV/messages", params={"limit": 200})
        assert resp.status_code == 200, resp.text
        items = [
            (m["message_id"], m["direction"], m["message_type"])
            for m in reversed(resp.json()["items"])
        ]
        return items if ("hb-odd", "out", 3) in items else None

    items = await eventually(logged)
    routine = [i for i in items if i[0].startswith(("mv", "hb"))]
    assert routine == [
        ("mv1", "in", 2),
        ("mv1", "out", 3),  # the first of the minute
        ("mv3", "in", 2),
        ("mv3", "out", 3),  # repaired
        ("mv5", "in", 2),
        ("mv5", "out", 4),  # refused
        ("hb0", "in", 2),
        ("hb0", "out", 3),  # the first heartbeat of the minute
        ("hb-odd", "in", 2),
        ("hb-odd", "out", 3),  # repaired
    ]
    mv3 = (await api.get("/stations/LOG-MV/messages", params={"action": "MeterValues"})).json()
    frames = {m["message_id"]: m["frame"] for m in mv3["items"] if m["direction"] == "in"}
    assert '"value":1300' in frames["mv3"].replace(" ", "")  # as the station sent it

    # Not logged is not lost: every accepted reading is stored with its transaction.
    detail = (await api.get(f"/transactions/{tx}")).json()
    registers = sorted(m["raw_value"] for m in detail["meter_values"] if m["measurand"] == REGISTER)
    assert registers == ["1100", "1200", "1300", "1400", "1600"]
    assert detail["energy_wh"] == 600
