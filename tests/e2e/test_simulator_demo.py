"""`joule serve --demo N`: sites, stations and drivers registered, a living network at once."""

from __future__ import annotations

from joule.cli.demo import BLOCKED, SITES, DemoFleet, demo_settings, driver_tokens
from joule.config import Settings
from tests.e2e.conftest import MakeJoule, api_client
from tests.e2e.test_charging_session import eventually


def test_demo_settings_seed_a_known_admin_unless_told_otherwise() -> None:
    plain = demo_settings(Settings(admin_email=None, admin_password=None))
    assert (plain.admin_email, plain.admin_password) == ("admin@joule.local", "joule-demo-admin")
    mine = demo_settings(Settings(admin_email="me@example.test", admin_password="s3cret-pass"))
    assert (mine.admin_email, mine.admin_password) == ("me@example.test", "s3cret-pass")


async def test_demo_fleet_registers_boots_and_charges(make_joule: MakeJoule) -> None:
    joule = await make_joule()  # unknown stations rejected: the demo registers its own
    api = await api_client(joule)
    demo = DemoFleet(joule, 5, seed=11)
    await demo.start()
    assert demo.fleet is not None
    await demo.fleet.wait_booted(20)

    listed = (await api.get("/stations", params={"limit": 50})).json()["items"]
    assert sorted(s["id"] for s in listed) == [f"DEMO-0000{n}" for n in range(1, 6)]
    assert {s["ocpp_version"] for s in listed} == {"1.6", "2.0.1", "2.1"}
    sites = (await api.get("/sites")).json()["items"]
    assert {s["id"] for s in sites} == {site for site, _, _ in SITES}
    token = (await api.get(f"/tokens/{BLOCKED}")).json()
    assert token["status"] == "Blocked"
    assert (await api.get(f"/tokens/{driver_tokens(5)[-1]}")).status_code == 200

    async def charging() -> bool:
        resp = await api.get("/transactions", params={"status": "active"})
        return bool(resp.json()["items"])

    await eventually(charging)  # the warm start: EVs arrive within seconds
    await demo.stop()
    counters = demo.fleet.counters()
    assert counters.callerrors_received == 0 and counters.schema_failures == 0
    await api.aclose()
