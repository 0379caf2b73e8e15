"""The access control pages over real HTTP against a real Joule: drivers with tokens, groups with
members and time-window rules, access modes; errors as 4xx pages; viewers read only; scope."""

from __future__ import annotations

import re

import httpx

from joule.runtime import Joule
from tests.api.test_driver_me import DRIVER_PASSWORD
from tests.web.conftest import csrf_of, web_login

PASSWORD = "operator-password-1"


async def post_form(
    web: httpx.AsyncClient, page: str, action: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """Open `page`, take its CSRF token, post `data` to `action`."""
    shown = await web.get(page)
    assert shown.status_code == 200, shown.text
    return await web.post(action, data={"csrf": csrf_of(shown.text), **data})


async def add_operator(
    api: httpx.AsyncClient, email: str, role: str, organisation_id: str | None = None
) -> None:
    body: dict[str, object] = {"email": email, "password": PASSWORD, "role": role}
    if organisation_id is not None:
        body["organisation_id"] = organisation_id
    resp = await api.post("/operators", json=body)
    assert resp.status_code == 201, resp.text


async def test_an_admin_creates_a_driver_with_a_token_and_a_portal_password(
    joule: Joule, web: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    drivers = "/ui/access/drivers"
    created = await post_form(
        web,
        drivers,
        drivers,
        {
            "name": "Olga",
            "email": "olga@example.test",
            "password": DRIVER_PASSWORD,
            "uid": "OLGA-1",
            "type": "ISO15693",
            "status": "Accepted",
        },
    )
    assert created.status_code == 303
    listed = await web.get(drivers)
    assert "olga@example.test" in listed.text
    assert 'data-token="OLGA-1"' in listed.text and "ISO15693" in listed.text
    token = (await api.get("/tokens/OLGA-1")).json()
    assert (token["status"], token["type"]) == ("Accepted", "ISO15693")
    # The password set here opens the driver portal.
    portal = await web.post(
        "/api/v1/driver/auth/token",
        data={"username": "olga@example.test", "password": DRIVER_PASSWORD},
    )
    assert portal.status_code == 200, portal.text

    # A taken uid refuses the whole form (409) and leaves no half-made driver behind.
    dup = await post_form(web, drivers, drivers, {"name": "Pia", "uid": "olga-1"})
    assert dup.status_code == 409
    assert "already exists" in dup.text and "Pia" in dup.text  # the form keeps what was typed
    assert "<td>Pia</td>" not in (await web.get(drivers)).text
    bad = await post_form(web, drivers, drivers, {"name": "Quin", "uid": "Q-1", "type": "Floppy"})
    assert bad.status_code == 422 and "unknown token type" in bad.text
    nomail = await post_form(web, drivers, drivers, {"name": "Rex", "password": DRIVER_PASSWORD})
    assert nomail.status_code == 422 and "needs an e-mail" in nomail.text
    short = await post_form(
        web, drivers, drivers, {"name": "Sam", "email": "sam@example.test", "password": "short"}
    )
    assert short.status_code == 422 and "at least 8 characters" in short.text
    assert "<td>Sam</td>" not in (await web.get(drivers)).text

    # A portal password for an existing driver (one made without), audited without the secret.
    await post_form(web, drivers, drivers, {"name": "Tom", "email": "tom@example.test"})
    tom = re.search(
        r'<tr data-driver="(\d+)"><td>\d+</td><td>Tom</td>', (await web.get(drivers)).text
    )
    assert tom
    action = f"/ui/access/drivers/{tom.group(1)}/password"
    assert (
        await post_form(web, drivers, action, {"password": "tom-password-1"})
    ).status_code == 303
    portal = await web.post(
        "/api/v1/driver/auth/token",
        data={"username": "tom@example.test", "password": "tom-password-1"},
    )
    assert portal.status_code == 200, portal.text
    weak = await post_form(web, drivers, action, {"password": "short"})
    assert weak.status_code == 422
    missing = await post_form(
        web, drivers, "/ui/access/drivers/999999/password", {"password": "x" * 9}
    )
    assert missing.status_code == 404
    entries = (await api.get("/audit", params={"object_type": "driver"})).json()["items"]
    [entry] = [e for e in entries if e["action"] == "driver.password"]
    assert "tom-password-1" not in str(entry)


async def test_groups_members_and_time_window_rules(
    joule: Joule, web: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    groups = "/ui/access/groups"
    assert (
        await api.post("/sites", json={"id": "HQ", "name": "Office", "timezone": "Europe/Berlin"})
    ).status_code == 201
    await post_form(
        web, "/ui/access/drivers", "/ui/access/drivers", {"name": "Tia", "uid": "TIA-1"}
    )
    made = await post_form(
        web, groups, groups, {"name": "Employees", "kind": "employees", "id": "staff"}
    )
    assert made.status_code == 303
    page = await web.get(groups)
    assert 'data-group="staff"' in page.text and "Office (HQ, Europe/Berlin)" in page.text
    driver_id = re.search(r'<option value="(\d+)">Tia</option>', page.text)
    assert driver_id, page.text

    members = "/ui/access/groups/staff/members"
    assert (
        await post_form(web, groups, members, {"driver_id": driver_id.group(1)})
    ).status_code == 303
    assert (await post_form(web, groups, members, {"uid": "tia-1"})).status_code == 303
    both = await post_form(web, groups, members, {"driver_id": driver_id.group(1), "uid": "TIA-1"})
    assert both.status_code == 422 and "one of them" in both.text
    ghost = await post_form(web, groups, members, {"uid": "NOBODY"})
    assert ghost.status_code == 404

    rules = "/ui/access/groups/staff/rules"
    added = await post_form(
        web,
        groups,
        rules,
        {
            "site_id": "HQ",
            "days": ["1", "2", "3", "4", "5"],
            "start_time": "08:00",
            "end_time": "18:00",
        },
    )
    assert added.status_code == 303
    page = await web.get(groups)
    assert f'data-member="driver:{driver_id.group(1)}"' in page.text
    assert 'data-member="token:TIA-1"' in page.text
    rule = re.search(r'<tr data-rule="(\d+)"><td>HQ</td>', page.text)
    assert rule, page.text
    assert "Mon Tue Wed Thu Fri" in page.text and "08:00" in page.text and "18:00" in page.text
    rules_api = (await api.get("/groups/staff/rules")).json()
    [stored] = rules_api if isinstance(rules_api, list) else rules_api["items"]
    assert (stored["days"], stored["start_time"], stored["end_time"]) == (
        [1, 2, 3, 4, 5],
        "08:00",
        "18:00",
    )

    late = await post_form(web, groups, rules, {"start_time": "25:00"})
    assert late.status_code == 422 and "start_time" in late.text
    sunday = await post_form(web, groups, rules, {"days": ["8"]})
    assert sunday.status_code == 422
    elsewhere = await post_form(web, groups, rules, {"site_id": "NOWHERE"})
    assert elsewhere.status_code == 404
    unknown = await post_form(web, groups, "/ui/access/groups/nope/rules", {"site_id": "HQ"})
    assert unknown.status_code == 404

    delete = f"/ui/access/groups/staff/rules/{rule.group(1)}/delete"
    assert (await post_form(web, groups, delete, {})).status_code == 303
    assert 'data-rule="' not in (await web.get(groups)).text
    removed = await post_form(web, groups, f"{members}/remove", {"uid": "TIA-1"})
    assert removed.status_code == 303
    assert 'data-member="token:TIA-1"' not in (await web.get(groups)).text
    # The audit log saw every change, with the operator as the actor.
    audit = await api.get("/audit", params={"object_type": "group", "limit": 100})
    assert audit.status_code == 200, audit.text
    entries = audit.json()["items"]
    assert {e["actor"] for e in entries} == {"admin@example.test"}
    actions = {e["action"] for e in entries}
    assert {"group.create", "group.member.add", "group.rule.add", "group.rule.delete"} <= actions
    assert "group.member.remove" in actions


async def test_access_modes_of_sites_and_stations(
    joule: Joule, web: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    places = "/ui/access/places"
    assert (await api.post("/sites", json={"id": "DEPOT", "name": "Depot"})).status_code == 201
    resp = await api.post("/stations", json={"id": "AM-1", "site_id": "DEPOT"})
    assert resp.status_code == 201, resp.text
    ok = await post_form(web, places, "/ui/access/sites/DEPOT/mode", {"access_mode": "private"})
    assert ok.status_code == 303
    shown = await web.get(places)
    assert re.search(r"<option selected>private</option>", shown.text)
    bad = await post_form(web, places, "/ui/access/sites/DEPOT/mode", {"access_mode": "secret"})
    assert bad.status_code == 422 and "unknown access mode" in bad.text
    gone = await post_form(web, places, "/ui/access/sites/GONE/mode", {"access_mode": "public"})
    assert gone.status_code == 404
    station = "/ui/access/stations/AM-1/mode"
    assert (await post_form(web, places, station, {"access_mode": "mixed"})).status_code == 303
    row = (await web.get(places)).text.split('data-station="AM-1"')[1]
    assert "<option selected>mixed</option>" in row.split("</tr>")[0]
    assert (await post_form(web, places, station, {"access_mode": "inherit"})).status_code == 303
    row = (await web.get(places)).text.split('data-station="AM-1"')[1].split("</tr>")[0]
    assert 'value="inherit" selected' in row


async def test_viewers_read_and_are_refused_changes(
    joule: Joule, web: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    await post_form(web, "/ui/access/groups", "/ui/access/groups", {"name": "Fleet", "id": "fleet"})
    await add_operator(api, "viewer@example.test", "viewer")
    viewer = await web_login(joule, "viewer@example.test", PASSWORD)
    try:
        for path in ("/ui/access/groups", "/ui/access/drivers", "/ui/access/places"):
            page = await viewer.get(path)
            assert page.status_code == 200
            assert 'method="post" action="/ui/access' not in page.text, path
        assert 'data-group="fleet"' in (await viewer.get("/ui/access/groups")).text
        csrf = csrf_of((await viewer.get("/ui/access/groups")).text)  # the logout form's token
        for action, data in (
            ("/ui/access/groups", {"name": "Mine"}),
            ("/ui/access/groups/fleet/rules", {"start_time": "08:00"}),
            ("/ui/access/groups/fleet/members", {"uid": "X"}),
            ("/ui/access/drivers", {"name": "Nope"}),
            ("/ui/access/sites/ANY/mode", {"access_mode": "private"}),
        ):
            resp = await viewer.post(action, data={"csrf": csrf, **data})
            assert resp.status_code == 403, (action, resp.status_code)
        # And without the CSRF token nobody gets anywhere.
        assert (await web.post("/ui/access/groups", data={"name": "x"})).status_code == 403
    finally:
        await viewer.aclose()
    assert "Mine" not in (await web.get("/ui/access/groups")).text


async def test_another_organisations_groups_are_invisible(
    joule: Joule, web: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    for org in ("org-a", "org-b"):
        resp = await api.post("/organisations", json={"id": org, "name": org.upper()})
        assert resp.status_code == 201, resp.text
        await add_operator(api, f"admin@{org}.test", "admin", org)
    a = await web_login(joule, "admin@org-a.test", PASSWORD)
    b = await web_login(joule, "admin@org-b.test", PASSWORD)
    try:
        made = await post_form(
            a, "/ui/access/groups", "/ui/access/groups", {"name": "A staff", "id": "a-staff"}
        )
        assert made.status_code == 303
        assert 'data-group="a-staff"' in (await a.get("/ui/access/groups")).text
        assert 'data-group="a-staff"' not in (await b.get("/ui/access/groups")).text
        # Org B cannot touch it: 404, as if it did not exist.
        for action, data in (
            ("/ui/access/groups/a-staff/rules", {"start_time": "08:00"}),
            ("/ui/access/groups/a-staff/members", {"uid": "X"}),
        ):
            resp = await post_form(b, "/ui/access/groups", action, data)
            assert resp.status_code == 404, (action, resp.text)
        # The root admin sees both organisations' groups.
        assert 'data-group="a-staff"' in (await web.get("/ui/access/groups")).text
    finally:
        await a.aclose()
        await b.aclose()
