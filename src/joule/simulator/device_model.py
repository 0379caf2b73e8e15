"""The 2.x device model over the configuration store: Get/SetVariables and NotifyReport data.

B06 GetVariables, B05 SetVariables, B07 GetBaseReport / B08 GetReport answered with NotifyReport
messages (tbc=true on all but the last, seqNo from 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from joule.simulator.configuration import RO, WO, ConfigStore, Setting

Payload = dict[str, Any]

_OPTIONS = {"AvailabilityState": "Available,Occupied,Reserved,Unavailable,Faulted"}
REPORT_CHUNK = 20  # reportData entries per NotifyReport


def _component(setting: Setting) -> Payload:
    component: Payload = {"name": setting.component}
    if setting.evse_id is not None:
        component["evse"] = {"id": setting.evse_id}
        if setting.component == "Connector":
            component["evse"]["connectorId"] = 1
    return component


def _variable(setting: Setting) -> Payload:
    variable: Payload = {"name": setting.variable}
    if setting.instance is not None:
        variable["instance"] = setting.instance
    return variable


def _lookup(store: ConfigStore, item: Payload) -> tuple[Setting | None, str]:
    component, variable = item["component"], item["variable"]
    evse = component.get("evse", {}).get("id") if isinstance(component.get("evse"), dict) else None
    setting, component_known = store.find(
        component["name"], variable["name"], instance=variable.get("instance"), evse_id=evse
    )
    if setting is None:
        return None, "UnknownVariable" if component_known else "UnknownComponent"
    return setting, "Accepted"


def get_variables(store: ConfigStore, data: list[Payload]) -> list[Payload]:
    """GetVariablesResult entries, one per request entry."""
    results: list[Payload] = []
    for item in data:
        result: Payload = {"component": item["component"], "variable": item["variable"]}
        attribute = item.get("attributeType", "Actual")
        if "attributeType" in item:
            result["attributeType"] = attribute
        setting, status = _lookup(store, item)
        if setting is not None and attribute != "Actual":
            status = "NotSupportedAttributeType"
        elif setting is not None and setting.mutability == WO:
            status = "Rejected"  # a write-only value (a password) is never read back
        elif setting is not None:
            result["attributeValue"] = setting.value[:2500]
        result["attributeStatus"] = status
        results.append(result)
    return results


def set_variables(store: ConfigStore, data: list[Payload]) -> list[Payload]:
    """SetVariablesResult entries, one per request entry."""
    results: list[Payload] = []
    for item in data:
        result: Payload = {"component": item["component"], "variable": item["variable"]}
        attribute = item.get("attributeType", "Actual")
        if "attributeType" in item:
            result["attributeType"] = attribute
        setting, status = _lookup(store, item)
        if setting is not None:
            if attribute != "Actual":
                status = "NotSupportedAttributeType"
            else:
                status = store.write(setting, str(item["attributeValue"]))
        result["attributeStatus"] = status
        results.append(result)
    return results


def report_entry(setting: Setting) -> Payload:
    """One ReportDataType."""
    attribute: Payload = {"type": "Actual", "mutability": setting.mutability}
    if setting.mutability != WO:
        attribute["value"] = setting.value[:2500]
    attribute["persistent"] = True
    attribute["constant"] = setting.mutability == RO
    characteristics: Payload = {"dataType": setting.data_type, "supportsMonitoring": False}
    values = _OPTIONS.get(setting.variable or "") or setting.values_list
    if setting.data_type in ("OptionList", "MemberList", "SequenceList") and values:
        characteristics["valuesList"] = values[:1000]
    return {
        "component": _component(setting),
        "variable": _variable(setting),
        "variableAttribute": [attribute],
        "variableCharacteristics": characteristics,
    }


def base_report(store: ConfigStore, report_base: str) -> list[Payload]:
    """GetBaseReport data: ConfigurationInventory (writable), FullInventory, SummaryInventory."""
    settings = store.device_model()
    if report_base == "ConfigurationInventory":
        settings = [s for s in settings if s.mutability != RO]
    elif report_base == "SummaryInventory":
        settings = [s for s in settings if s.variable == "AvailabilityState"]
    return [report_entry(s) for s in settings]


def criteria_report(store: ConfigStore, wanted: list[Payload]) -> list[Payload]:
    """GetReport data for a list of ComponentVariableType (all variables of a component if
    no variable is named)."""
    chosen: list[Setting] = []
    for item in wanted:
        component = item["component"]
        evse = (
            component.get("evse", {}).get("id") if isinstance(component.get("evse"), dict) else None
        )
        name = item.get("variable", {}).get("name")
        for s in store.device_model():
            matches = s.component == component["name"] and s.evse_id == evse
            if matches and name in (None, s.variable) and s not in chosen:
                chosen.append(s)
    return [report_entry(s) for s in chosen]


def chunks(entries: list[Payload], size: int = REPORT_CHUNK) -> Iterable[list[Payload]]:
    """Report data split into NotifyReport-sized parts."""
    for i in range(0, len(entries), size):
        yield entries[i : i + size]
