"""A station against a scripted CSMS peer on a real socket: the rules a station must follow.

Boot Pending/Rejected waited out (B02.FR.01, B03.FR.01) with nothing else sent (B01.FR.08);
a transaction message that gets a CALLERROR is retried after the interval with a new message id
and discarded after the last attempt (C16 §3.7.1, E13); a reconnect is not a reboot (J16 §5.4)
and waits the back-off (P4 §5.3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from joule.ocpp.versions import OcppVersion
from tests.e2e.test_charging_session import eventually
from tests.simulator.peer import Answer, Peer, accepted, station


async def test_pending_boot_waits_out_its_interval_and_sends_nothing_else(
    peer_server: Callable[[Answer], Any],
) -> None:
    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        if action == "BootNotification" and n == 0:
            return {"status": "Pending", "interval": 1, "currentTime": "2026-05-01T18:00:00Z"}
        return accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url)
    await st.start()
    await st.wait_booted(10)
    boots = [t for _, _, a, _, t in peer.calls if a == "BootNotification"]
    assert len(boots) == 2 and boots[1] - boots[0] >= 0.95
    assert peer.actions()[:2] == ["BootNotification", "BootNotification"]  # B01.FR.08

    async def statuses() -> bool:
        return peer.actions()[2:5] == ["StatusNotification"] * 3  # connector 0, 1, 2

    await eventually(statuses)
    await st.stop()


async def test_callerror_is_retried_with_a_new_id_and_a_reconnect_is_no_reboot(
    peer_server: Callable[[Answer], Any],
) -> None:
    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        if action == "StartTransaction" and n == 0:
            return "InternalError"
        return accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url)
    await st.start()
    await st.wait_booted(10)
    st.plug_in(1)
    assert await st.present_token(1, "TAG")
    await st.wait_idle(10)
    starts = [(mid, t) for _, mid, a, _, t in peer.calls if a == "StartTransaction"]
    assert len(starts) == 2 and starts[0][0] != starts[1][0]  # a retry has a new message id
    assert starts[1][1] - starts[0][1] >= 0.95  # TransactionMessageRetryInterval × 1
    assert st.counters.callerrors_received == 1 and st.sessions()[0].csms_id == 7

    dropped_at = time.monotonic()
    await peer.sockets[0].close()
    await eventually(lambda: _reconnected(peer))
    second = peer.actions(2)
    assert second and second[0] != "BootNotification"  # J16 §5.4: no reboot, no boot
    assert next(t for c, _, _, _, t in peer.calls if c == 2) - dropped_at >= 0.95  # back-off
    assert await st.stop_transaction(1)
    await st.wait_idle(10)
    stop = [p for _, _, a, p, _ in peer.calls if a == "StopTransaction"]
    assert stop[0]["transactionId"] == 7 and st.counters.boots == 1
    await st.stop()


async def _reconnected(peer: Peer) -> bool:
    return len(peer.sockets) == 2 and bool(peer.actions(2))


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=str)
async def test_a_message_that_keeps_failing_is_discarded_after_the_last_attempt(
    peer_server: Callable[[Answer], Any], version: OcppVersion
) -> None:
    def periodic(action: str, payload: dict[str, Any]) -> bool:
        return action == "MeterValues" or payload.get("triggerReason") == "MeterValuePeriodic"

    def script(action: str, payload: dict[str, Any], n: int) -> Any:
        return "InternalError" if periodic(action, payload) else accepted(action, payload, n)

    peer, url = await peer_server(script)
    st = station(url, version, TransactionMessageAttempts="2")
    await st.start()
    await st.wait_booted(10)
    st.plug_in(1)
    assert await st.present_token(1, "TAG")

    async def sampled() -> bool:
        return any(periodic(a, p) for _, _, a, p, _ in peer.calls)

    await eventually(sampled)  # one periodic sample (however slow the box), then stop
    assert await st.stop_transaction(1)
    await st.wait_idle(15)
    assert st.counters.transaction_messages_discarded >= 1  # C16 §3.7.1 / E13.FR.04
    assert st.counters.callerrors_received == 2 * st.counters.transaction_messages_discarded
    last = peer.calls[-1]
    assert last[2] in ("StopTransaction", "TransactionEvent")  # the queue went on
    assert st.completed and st.completed[0].meter_stop_wh >= st.completed[0].meter_start_wh
    await st.stop()
