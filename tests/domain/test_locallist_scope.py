"""Which stations an access change reaches, and what stored variables say of a station's list."""

from __future__ import annotations

from itertools import pairwise

from joule.domain.locallist.keeper import network_stations, paced_start, root_of
from joule.domain.locallist.limits import from_answer, judge, query
from joule.domain.locallist.plan import Limits
from joule.ocpp.versions import OcppVersion

# CPO ─┬─ HOST-1 ── HOST-1A        OTHER (another network)
#      └─ HOST-2
PARENTS: dict[str, str | None] = {
    "CPO": None,
    "HOST-1": "CPO",
    "HOST-1A": "HOST-1",
    "HOST-2": "CPO",
    "OTHER": None,
}
STATIONS: list[tuple[str, str | None]] = [
    ("CP-CPO", "CPO"),
    ("CP-1A", "HOST-1A"),
    ("CP-2", "HOST-2"),
    ("CP-OTHER", "OTHER"),
    ("CP-NONE", None),
]


def test_root_of_walks_up_the_tree() -> None:
    assert root_of(PARENTS, "HOST-1A") == "CPO"
    assert root_of(PARENTS, "OTHER") == "OTHER"
    assert root_of({"A": "B", "B": "A"}, "A") in {"A", "B"}  # a cycle never loops


def test_a_change_reaches_the_whole_network_and_nothing_else() -> None:
    # A token of a sub-operator is valid across its network (same root organisation).
    assert network_stations(PARENTS, STATIONS, ["HOST-1A"]) == ["CP-CPO", "CP-1A", "CP-2"]
    assert network_stations(PARENTS, STATIONS, ["OTHER"]) == ["CP-OTHER"]
    # None: a network-wide token or group may touch every station.
    assert len(network_stations(PARENTS, STATIONS, [None])) == len(STATIONS)


def test_16_limits_and_support_from_configuration_keys() -> None:
    values: dict[tuple[str, str], str | None] = {
        ("", "LocalAuthListEnabled"): "true",
        ("", "LocalAuthListMaxLength"): "500",
        ("", "SendLocalListMaxLength"): "50",
        ("", "SupportedFeatureProfiles"): "Core,LocalAuthListManagement",
    }
    known = judge(OcppVersion.V16, values)
    assert known.complete and known.unsupported is None
    assert known.limits == Limits(max_entries=500, items_per_message=50)
    no_profile = {**values, ("", "SupportedFeatureProfiles"): "Core,SmartCharging"}
    assert judge(OcppVersion.V16, no_profile).unsupported is not None
    disabled = {**values, ("", "LocalAuthListEnabled"): "FALSE"}
    assert judge(OcppVersion.V16, disabled).unsupported is not None
    partial = judge(OcppVersion.V16, {("", "SendLocalListMaxLength"): "abc"})
    assert not partial.complete and partial.limits == Limits()


def test_2x_limits_from_the_controller_and_a_station_without_one() -> None:
    answer = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "LocalAuthListCtrlr"},
                "variable": {"name": name},
                "attributeValue": value,
            }
            for name, value in [
                ("Available", "true"),
                ("Enabled", "true"),
                ("ItemsPerMessage", "20"),
                ("BytesPerMessage", "4096"),
            ]
        ]
    }
    assert query(OcppVersion.V201)[0] == "GetVariables"
    rows = from_answer(OcppVersion.V201, answer)
    values = {(r.component, r.variable): r.value for r in rows}
    known = judge(OcppVersion.V201, values)
    assert known.complete and known.unsupported is None
    assert known.limits == Limits(items_per_message=20, bytes_per_message=4096)

    unknown = {
        "getVariableResult": [
            {**item, "attributeStatus": "UnknownComponent", "attributeValue": None}
            for item in answer["getVariableResult"]
        ]
    }
    rows = from_answer(OcppVersion.V201, unknown)
    values = {(r.component, r.variable): r.value for r in rows}
    assert judge(OcppVersion.V201, values).unsupported == "the station has no LocalAuthListCtrlr"


def test_a_connect_storm_becomes_a_trickle_of_reconciliations() -> None:
    # 100 connects in the same instant: the first starts settle later, the rest 1/rate apart
    # (a jitter smaller than the backlog changes nothing).
    starts: list[float] = []
    slot = 0.0
    for i in range(100):
        at, slot = paced_start(10.0, 1.0, 0.01 if i % 2 else 0.0, slot, 20.0)
        starts.append(at)
    assert starts[0] == 11.0
    gaps = [b - a for a, b in pairwise(starts)]
    assert min(gaps) >= 0.05 - 1e-9  # never more than 20 a second
    assert abs(starts[-1] - (11.0 + 99 * 0.05)) < 1e-6  # and no slower than that either


def test_a_lone_connect_waits_only_its_settle_delay_and_jitter() -> None:
    slot = 0.0
    at, slot = paced_start(100.0, 1.0, 0.25, slot, 20.0)
    assert at == 101.25 and slot == 101.3
    # Long after, the pacing does not hold it back.
    assert paced_start(500.0, 1.0, 0.0, slot, 20.0)[0] == 501.0
    # rate 0: no pacing at all.
    assert paced_start(5.0, 0.0, 0.0, 99.0, 0.0) == (99.0, 99.0)
