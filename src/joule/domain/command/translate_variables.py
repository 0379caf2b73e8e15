"""2.x device-model variables first-class: GetVariables, SetVariables, GetBaseReport (pure).

A 1.6 station has configuration keys instead (`/configuration` translates those); only the full
report has a 1.6 twin: GetConfiguration without keys returns every key (C16 §5.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from joule.domain.command.translate import Payload, Request, VariableRef
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

REPORT_BASES = frozenset({"ConfigurationInventory", "FullInventory", "SummaryInventory"})
# What a 1.6 GetConfiguration (every key) can stand for: the configuration, not a summary.
_V16_REPORTS = frozenset({"ConfigurationInventory", "FullInventory"})


@dataclass(frozen=True, slots=True)
class VariableValue:
    """A value to set on one attribute of a variable."""

    ref: VariableRef
    value: str
    attribute_type: str | None = None


def _needs_2x(version: OcppVersion, action: str) -> None:
    if version is OcppVersion.V16:
        raise Invalid(
            f"{action} is 2.0.1 and later: a 1.6 station has configuration keys "
            "(POST /stations/{station_id}/configuration)"
        )


def get_variables_request(
    version: OcppVersion, *, variables: list[tuple[VariableRef, str | None]]
) -> Request:
    """GetVariables (B06) for (variable, attribute type) pairs."""
    _needs_2x(version, "GetVariables")
    if not variables:
        raise Invalid("name at least one variable")
    data: list[Payload] = []
    for ref, attribute_type in variables:
        item: Payload = {"component": ref.component_payload(), "variable": ref.variable_payload()}
        if attribute_type is not None:
            item["attributeType"] = attribute_type
        data.append(item)
    return Request("GetVariables", {"getVariableData": data})


def set_variables_request(version: OcppVersion, *, values: list[VariableValue]) -> Request:
    """SetVariables (B05) for one or more attributes."""
    _needs_2x(version, "SetVariables")
    if not values:
        raise Invalid("give at least one variable and value")
    data: list[Payload] = []
    for v in values:
        item: Payload = {
            "attributeValue": v.value,
            "component": v.ref.component_payload(),
            "variable": v.ref.variable_payload(),
        }
        if v.attribute_type is not None:
            item["attributeType"] = v.attribute_type
        data.append(item)
    return Request("SetVariables", {"setVariableData": data})


def base_report_request(version: OcppVersion, *, request_id: int, report_base: str) -> Request:
    """GetBaseReport (B07; NotifyReport parts follow) / 1.6 GetConfiguration of every key."""
    if report_base not in REPORT_BASES:
        raise Invalid(f"unknown report base {report_base!r} ({', '.join(sorted(REPORT_BASES))})")
    if version is OcppVersion.V16:
        if report_base not in _V16_REPORTS:
            raise Invalid(f"a 1.6 station cannot report a {report_base}: it only lists its keys")
        return Request("GetConfiguration", {})
    return Request("GetBaseReport", {"requestId": request_id, "reportBase": report_base})
