"""2.x device-model variables, first-class."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from joule.api.schemas.command import CommandBody

AttributeType = Literal["Actual", "Target", "MinSet", "MaxSet"]


class VariableName(CommandBody):
    """A variable of a component (optionally of an instance, on an EVSE/connector)."""

    component: str = Field(min_length=1, max_length=50, examples=["OCPPCommCtrlr"])
    variable: str = Field(min_length=1, max_length=50, examples=["HeartbeatInterval"])
    component_instance: str | None = Field(default=None, max_length=50)
    variable_instance: str | None = Field(default=None, max_length=50)
    evse_id: int | None = Field(default=None, ge=0)
    connector_id: int | None = Field(default=None, ge=0)
    attribute_type: AttributeType | None = None


class VariableSetting(VariableName):
    """A variable and the value to set."""

    value: str = Field(max_length=2500)


class GetVariablesCommand(CommandBody):
    """GetVariables (2.x) for one or more variables."""

    variables: list[VariableName] = Field(min_length=1)


class SetVariablesCommand(CommandBody):
    """SetVariables (2.x) for one or more variables."""

    variables: list[VariableSetting] = Field(min_length=1)


class BaseReportCommand(CommandBody):
    """GetBaseReport (2.x; NotifyReport parts follow) / 1.6 GetConfiguration of every key."""

    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = (
        "FullInventory"
    )
