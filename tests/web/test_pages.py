"""The dashboard over plain HTTP against a real Joule: login, pages, roles, CSRF, commands."""

from __future__ import annotations

import httpx

from joule.runtime import Joule
from tests.e2e.test_charging_session import add_station, eventually
from tests.e2e.test_commands import booted
from tests.web.conftest import base_url, csrf_of, web_login


async def test_pages_need_a_session(joule: Joule) -> None:
    async with httpx.AsyncClient(base_url=base_url(joule), headers={"Accept": "text/html"}) as c:
        root = await c.get("/")
        assert root.status_code == 303 and root.headers["location"] == "/ui/"
        page = await c.get("/ui/stations/X?q=a")
        assert page.status_code == 303
        assert page.headers["location"] == "/ui/login?next=/ui/stations/X%3Fq%3Da"
        # Scripts (EventSource, fetch) get a status, not a redirect.
        live = await c.get("/ui/live/events", headers={"Accept": "text/event-stream"})
        assert live.status_code == 401
        c.cookies.set("joule_session", "not-a-jwt")
        forged = await c.get("/ui/")
        assert forged.status_code == 303


async def test_login_sets_a_strict_httponly_cookie(joule: Joule) -> None:
    async with httpx.AsyncClient(base_url=base_url(joule)) as c:
        form = await c.get("/ui/login")
        assert form.headers["content-security-policy"].startswith("default-src 'self'")
        token = csrf_of(form.text)
        wrong = await c.post(
            "/ui/login",
            data={"email": "admin@example.test", "password": "nope", "csrf": token},
        )
        assert wrong.status_code == 401 and "Wrong e-mail or password." in wrong.text
        token = csrf_of(wrong.text)
        ok = await c.post(
            "/ui/login",
            data={
                "email": "admin@example.test",
                "password": "correct-horse-battery",
                "csrf": token,
                "next": "https://evil.example/",
            },
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/ui/"  # no open redirect
        cookie = next(h for h in ok.headers.get_list("set-cookie") if "joule_session=" in h)
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


async def test_login_refuses_a_forged_form(joule: Joule) -> None:
    async with httpx.AsyncClient(base_url=base_url(joule)) as c:
        await c.get("/ui/login")
        no_token = await c.post(
            "/ui/login", data={"email": "admin@example.test", "password": "x", "csrf": "guess"}
        )
        assert no_token.status_code == 403


async def test_overview_counts_and_lists_stations(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "OV-1", "1.6")
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    )
    await add_station(api, "OV-2")
    page = await web.get("/ui/")
    assert page.status_code == 200
    html = page.text
    assert 'data-count="online">1<' in html and 'data-count="offline">1<' in html
    assert 'data-count="charging">1<' in html and 'data-count="faulted">0<' in html
    assert 'data-station="OV-1"' in html and 'data-station="OV-2"' in html
    assert 'data-connector="OV-1:1:1"' in html and "Charging" in html
    snap = (await web.get("/ui/live/snapshot", headers={"Accept": "application/json"})).json()
    assert snap["counts"]["charging"] == 1 and snap["stations"]["OV-1"]["state"] == "charging"
    assert snap["stations"]["OV-2"]["state"] == "offline"
    await st.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"},
    )
    snap = (await web.get("/ui/live/snapshot")).json()
    assert snap["counts"]["faulted"] == 1
    assert snap["stations"]["OV-1"]["connectors"][0]["error_code"] == "GroundFailure"
    await st.close()


async def test_station_page_shows_identity_log_search_and_commands(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "ST-1", "1.6")
    await st.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "HighTemperature", "status": "Faulted"},
    )
    await st.call("Heartbeat", {})
    page = await web.get("/ui/stations/ST-1")
    assert page.status_code == 200
    html = page.text
    assert "Acme" in html and "connected" in html and "HighTemperature" in html
    assert 'data-command="reset"' in html and "BootNotification" in html
    assert "<svg" in html and "st-fault" in html  # the status timeline

    async def searched() -> str | None:
        # The message log is written by the activity recorder in batches (every 0.5 s).
        found = await web.get("/ui/stations/ST-1", params={"q": "heartbeat"})
        return found.text if "<td>Heartbeat</td>" in found.text else None

    found = await eventually(searched)
    assert "<td>BootNotification</td>" not in found
    missing = await web.get("/ui/stations/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.text

    csrf = csrf_of(html)
    st.answers["Reset"] = lambda action, payload: {"status": "Accepted"}
    resp = await web.post(
        "/ui/stations/ST-1/commands/reset",
        data={"type": "Soft", "evse_id": ""},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert resp.status_code == 200 and resp.json() == {"ok": True, "answer": {"status": "Accepted"}}
    assert st.received_calls[-1][2:] == ["Reset", {"type": "Soft"}]

    bad = await web.post(
        "/ui/stations/ST-1/commands/raw",
        data={"action": "Reset", "payload": "{not json"},
        headers={"X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422 and bad.json()["ok"] is False
    refused = await web.post(
        "/ui/stations/ST-1/commands/unlock",
        data={"evse_id": "1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 502 and "NotImplemented" in refused.json()["detail"]
    no_csrf = await web.post("/ui/stations/ST-1/commands/reset", data={"type": "Soft"})
    assert no_csrf.status_code == 403
    foreign = await web.post(
        "/ui/stations/ST-1/commands/reset",
        data={"type": "Soft"},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    await st.close()


async def test_commands_to_an_offline_station_answer_409(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    await add_station(api, "OFF-1")
    page = await web.get("/ui/stations/OFF-1")
    assert "disconnected" in page.text
    resp = await web.post(
        "/ui/stations/OFF-1/commands/trigger",
        data={"message": "StatusNotification"},
        headers={"X-CSRF-Token": csrf_of(page.text)},
    )
    assert resp.status_code == 409 and resp.json()["ok"] is False


async def test_a_viewer_sees_no_command_buttons(joule: Joule, api: httpx.AsyncClient) -> None:
    await add_station(api, "VW-1")
    created = await api.post(
        "/operators",
        json={"email": "viewer@example.test", "password": "viewer-password-1", "role": "viewer"},
    )
    assert created.status_code == 201, created.text
    viewer = await web_login(joule, "viewer@example.test", "viewer-password-1")
    page = await viewer.get("/ui/stations/VW-1")
    assert page.status_code == 200 and "data-command=" not in page.text
    assert "commands.js" not in page.text
    resp = await viewer.post(
        "/ui/stations/VW-1/commands/reset",
        data={"type": "Soft"},
        headers={"X-CSRF-Token": csrf_of(page.text)},
    )
    assert resp.status_code == 403
    await viewer.aclose()


async def test_logout_ends_the_session(joule: Joule, web: httpx.AsyncClient) -> None:
    page = await web.get("/ui/")
    resp = await web.post("/ui/logout", data={"csrf": csrf_of(page.text)})
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
    assert (await web.get("/ui/")).status_code == 303


async def test_static_assets_ship_in_the_package(joule: Joule) -> None:
    async with httpx.AsyncClient(base_url=base_url(joule)) as c:
        for name in ("app.css", "live.js", "commands.js", "favicon.svg"):
            resp = await c.get(f"/ui/static/{name}")
            assert resp.status_code == 200 and resp.content, name


async def test_page_commands_are_translated_for_a_201_station(
    joule: Joule, api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    st = await booted(joule, api, "CMD-201", "2.0.1")
    st.answers["ChangeAvailability"] = lambda action, payload: {"status": "Scheduled"}
    st.answers["TriggerMessage"] = lambda action, payload: {"status": "Accepted"}
    st.answers["GetLocalListVersion"] = lambda action, payload: {"versionNumber": 4}
    page = await web.get("/ui/stations/CMD-201")
    headers = {"X-CSRF-Token": csrf_of(page.text)}
    url = "/ui/stations/CMD-201/commands"

    resp = await web.post(
        f"{url}/availability",
        data={"operative": "false", "evse_id": "1", "connector_id": ""},
        headers=headers,
    )
    assert resp.json() == {"ok": True, "answer": {"status": "Scheduled"}}
    assert st.received_calls[-1][2:] == [
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    ]
    resp = await web.post(
        f"{url}/trigger", data={"message": "StatusNotification", "evse_id": ""}, headers=headers
    )
    assert resp.json()["answer"] == {"status": "Accepted"}
    assert st.received_calls[-1][2] == "TriggerMessage"
    assert st.received_calls[-1][3]["requestedMessage"] == "StatusNotification"
    resp = await web.post(
        f"{url}/raw", data={"action": "GetLocalListVersion", "payload": "{}"}, headers=headers
    )
    assert resp.json() == {"ok": True, "answer": {"versionNumber": 4}}
    invalid = await web.post(f"{url}/reset", data={"type": "Sideways"}, headers=headers)
    assert invalid.status_code == 422 and invalid.json()["ok"] is False
    unknown = await web.post(f"{url}/explode", data={}, headers=headers)
    assert unknown.status_code == 404
    # The audit log shows who sent what from the page.
    audit = (await api.get("/stations/CMD-201/commands")).json()["items"]
    # (Joule's own local-list sync may also talk to the station at boot: "joule:local-list".)
    assert {row["operator"] for row in audit if not row["operator"].startswith("joule:")} == {
        "admin@example.test"
    }
    await st.close()
