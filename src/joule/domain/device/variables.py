"""Device-model variables from 2.x reports, keyed as they are stored (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Schema defaults (2.0.1 AttributeEnumType / MutabilityEnumType): an absent field means these.
DEFAULT_ATTRIBUTE_TYPE = "Actual"
DEFAULT_MUTABILITY = "ReadWrite"


@dataclass(frozen=True, slots=True)
class VariableValue:
    """One variable attribute of one component, as a DeviceVariable row holds it."""

    component: str  # "Name[instance]@evse.connector"
    variable: str  # "Name[instance]"
    attribute_type: str  # Actual | Target | MinSet | MaxSet
    value: str | None
    mutability: str | None  # None: not reported (e.g. NotifyEvent), keep what is stored


def _named(item: Mapping[str, Any]) -> str:
    instance = item.get("instance")
    return f"{item['name']}[{instance}]" if instance else str(item["name"])


def component_key(component: Mapping[str, Any]) -> str:
    """'Name[instance]@evse.connector' for a ComponentType (the parts that are present)."""
    key = _named(component)
    evse = component.get("evse")
    if evse:
        key += f"@{evse['id']}"
        if evse.get("connectorId") is not None:
            key += f".{evse['connectorId']}"
    return key


def variable_key(variable: Mapping[str, Any]) -> str:
    """'Name[instance]' for a VariableType."""
    return _named(variable)


def from_report_data(report_data: Iterable[Mapping[str, Any]]) -> list[VariableValue]:
    """Every variable attribute of a NotifyReport's reportData (B07/B08)."""
    values: list[VariableValue] = []
    for item in report_data:
        component = component_key(item["component"])
        variable = variable_key(item["variable"])
        for attribute in item.get("variableAttribute") or ():
            values.append(
                VariableValue(
                    component=component,
                    variable=variable,
                    attribute_type=attribute.get("type") or DEFAULT_ATTRIBUTE_TYPE,
                    # Omitted only for WriteOnly attributes (VariableAttributeType.value).
                    value=attribute.get("value"),
                    mutability=attribute.get("mutability") or DEFAULT_MUTABILITY,
                )
            )
    return values


def from_event_data(event_data: Iterable[Mapping[str, Any]]) -> list[VariableValue]:
    """The Actual values a NotifyEvent reports for its component variables (N07)."""
    return [
        VariableValue(
            component=component_key(item["component"]),
            variable=variable_key(item["variable"]),
            attribute_type=DEFAULT_ATTRIBUTE_TYPE,
            value=item.get("actualValue"),
            mutability=None,
        )
        for item in event_data
    ]
