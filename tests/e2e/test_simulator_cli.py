"""`joule simulate` as an operator runs it: two processes, a live line, a summary, exit 0."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import MakeJoule, api_client, ocpp_url

JOULE = Path(sys.executable).with_name("joule")


@pytest.mark.timeout(180)
async def test_joule_simulate_runs_a_fleet_in_two_processes(make_joule: MakeJoule) -> None:
    joule = await make_joule(unknown_stations="accept")
    api = await api_client(joule)
    assert (await api.post("/tokens", json={"uid": "CLI-TAG", "max_concurrent": 20})).is_success
    # `fast` plugs every EVSE in within 0.5–5 s of boot and presents the token within 1 s
    # (arrivals.py, warm_start_share=1): by 12 s each station has a session under way, however
    # slowly the box starts the two processes, and stopping the fleet ends them (Fleet.stop).
    args = "--stations 4 --duration 12 --processes 2 --pattern fast --meter-interval 1 --prefix CLI"
    process = await asyncio.create_subprocess_exec(
        str(JOULE),
        "simulate",
        "--url",
        ocpp_url(joule),
        "--token",
        "CLI-TAG",
        *args.split(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    summary = err.decode()
    assert process.returncode == 0, summary
    assert "4 (4 booted)" in summary and "CALLERRORs received" in summary
    assert "│ 0 (-)" in summary  # no CALLERROR
    stations = (await api.get("/stations", params={"limit": 10})).json()["items"]
    assert sorted(s["id"] for s in stations) == [f"CLI-0000{n}" for n in range(1, 5)]
    done = (await api.get("/transactions", params={"status": "completed", "limit": 100})).json()
    # Sessions came and went at every station, in both processes' halves of the fleet.
    assert sorted({t["station_id"] for t in done["items"]}) == [f"CLI-0000{n}" for n in range(1, 5)]
    await api.aclose()
