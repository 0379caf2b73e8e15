"""Which stations an access change reaches, and what stored variables say of a station's list."""

from __future__ import annotations

from joule.domain.locallist.keeper import network_stations, root_of
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
