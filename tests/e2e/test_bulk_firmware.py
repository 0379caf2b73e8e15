"""Roll out firmware to one vendor's model across a mixed 1.6 / 2.0.1 fleet: one bulk job, each
station gets the UpdateFirmware of its own version (OCPP 1.6 §5.19; 2.0.1 L01), stations of other
models or vendors get nothing. Real Joule, real stations over WebSocket, real HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_bulk import finished
from tests.e2e.test_charging_session import PASSWORD
from tests.web.conftest import csrf_of, web_login

URL = "https://fw.example/acme-x1-2.4.bin"
RETRIEVE = "2026-12-01T02:00:00Z"


async def booted(
    joule: Joule, api: httpx.AsyncClient, sid: str, version: str, vendor: str, model: str
) -> TestStation:
    assert (await api.post("/stations", json={"id": sid, "password": PASSWORD})).status_code == 201
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        await st.call("BootNotification", {"chargePointVendor": vendor, "chargePointModel": model})
        st.answers["UpdateFirmware"] = lambda action, payload: {}  # 1.6: an empty confirmation
    else:
        await st.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": vendor, "model": model}},
        )
        st.answers["UpdateFirmware"] = lambda action, payload: {"status": "Accepted"}
    return st


def firmware_calls(st: TestStation) -> list[dict[str, Any]]:
    return [call[3] for call in st.received_calls if call[2] == "UpdateFirmware"]


async def test_firmware_rolls_out_to_one_model_of_a_mixed_fleet(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    old = await booted(joule, api, "FW-16", "1.6", "Acme", "X1")
    new = await booted(joule, api, "FW-201", "2.0.1", "Acme", "X1")
    other_model = await booted(joule, api, "FW-Y9", "1.6", "Acme", "Y9")
    other_vendor = await booted(joule, api, "FW-OTHER", "2.0.1", "Zeta", "X1")
    try:
        resp = await api.post(
            "/bulk/firmware",
            json={
                "filter": {"vendor": "Acme", "model": "X1"},
                "params": {"location": URL, "retrieve_at": RETRIEVE, "retries": 3},
            },
        )
        assert resp.status_code == 202, resp.text
        job = await finished(api, resp.json()["id"])
        by_id = {r["station_id"]: r for r in job["results"]}
        assert set(by_id) == {"FW-16", "FW-201"}
        assert by_id["FW-16"]["outcome"] == "answered" and by_id["FW-16"]["response"] == {}
        assert by_id["FW-201"]["response"]["status"] == "Accepted"

        # Translated per version: 1.6 core UpdateFirmware, 2.0.1 with a firmware object and id.
        assert firmware_calls(old) == [
            {"location": URL, "retrieveDate": "2026-12-01T02:00:00.000Z", "retries": 3}
        ]
        [v2] = firmware_calls(new)
        assert v2["firmware"] == {"location": URL, "retrieveDateTime": "2026-12-01T02:00:00.000Z"}
        assert v2["retries"] == 3
        # The answer names the requestId the station will report FirmwareStatusNotification with.
        assert by_id["FW-201"]["response"]["requestId"] == v2["requestId"]
        assert firmware_calls(other_model) == [] and firmware_calls(other_vendor) == []

        # Each station's command is in its own command log.
        for sid in ("FW-16", "FW-201"):
            log = (await api.get(f"/stations/{sid}/commands")).json()["items"]
            assert any(entry["action"] == "UpdateFirmware" for entry in log), log
    finally:
        for st in (old, new, other_model, other_vendor):
            await st.close()


async def test_a_field_one_version_lacks_fails_only_those_stations(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    old = await booted(joule, api, "FWI-16", "1.6", "Acme", "X2")
    new = await booted(joule, api, "FWI-201", "2.0.1", "Acme", "X2")
    try:
        # 1.6 UpdateFirmware has no install time: those stations are `invalid`, the rest proceed.
        resp = await api.post(
            "/bulk/firmware",
            json={
                "filter": {"model": "X2"},
                "params": {
                    "location": URL,
                    "retrieve_at": RETRIEVE,
                    "install_at": "2026-12-01T03:00:00Z",
                },
            },
        )
        assert resp.status_code == 202, resp.text
        job = await finished(api, resp.json()["id"])
        by_id = {r["station_id"]: r for r in job["results"]}
        assert by_id["FWI-16"]["outcome"] == "invalid"
        assert "no install time" in by_id["FWI-16"]["error"]
        assert by_id["FWI-201"]["response"]["status"] == "Accepted"
        assert firmware_calls(old) == []
        [v2] = firmware_calls(new)
        assert v2["firmware"]["installDateTime"] == "2026-12-01T03:00:00.000Z"

        # Bad parameters are refused up front, before any station is asked.
        for params, words in (
            ({"retrieve_at": RETRIEVE}, "location"),
            ({"location": URL, "retrieve_at": "tomorrow"}, "retrieve_at"),
            ({"location": URL, "retrieve_at": "2026-12-01T02:00:00"}, "timezone"),
        ):
            bad = await api.post(
                "/bulk/firmware", json={"filter": {"model": "X2"}, "params": params}
            )
            assert bad.status_code == 422 and words in bad.text, bad.text
        assert len(firmware_calls(new)) == 1
    finally:
        await old.close()
        await new.close()


async def test_the_dashboard_rolls_out_firmware_by_vendor_and_model(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    old = await booted(joule, api, "FWD-16", "1.6", "Acme", "X3")
    new = await booted(joule, api, "FWD-201", "2.0.1", "Acme", "X3")
    web = await web_login(joule)
    try:
        page = await web.get("/ui/")
        headers = {"X-CSRF-Token": csrf_of(page.text), "Accept": "application/json"}
        started = await web.post(
            "/ui/bulk/firmware",
            data={"vendor": "Acme", "model": "X3", "location": URL, "retrieve_at": RETRIEVE},
            headers=headers,
        )
        assert started.status_code == 202, started.text
        job = await finished(api, started.json()["job"]["id"])
        assert {r["station_id"]: r["outcome"] for r in job["results"]} == {
            "FWD-16": "answered",
            "FWD-201": "answered",
        }
        assert firmware_calls(old)[0]["location"] == URL
        assert firmware_calls(new)[0]["firmware"]["location"] == URL
        missing = await web.post(
            "/ui/bulk/firmware", data={"model": "X3", "retrieve_at": RETRIEVE}, headers=headers
        )
        assert missing.status_code == 422 and "location" in missing.text
    finally:
        await web.aclose()
        await old.close()
        await new.close()
