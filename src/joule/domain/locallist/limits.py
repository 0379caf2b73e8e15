"""A station's local list limits and support, from its stored configuration / device variables.

1.6 configuration keys (C16 §9.4 LocalAuthListManagement profile): LocalAuthListEnabled,
LocalAuthListMaxLength (entries it holds), SendLocalListMaxLength (entries per SendLocalList),
and SupportedFeatureProfiles (§9.1.33, must name LocalAuthListManagement).
2.0.1 LocalAuthListCtrlr (D01): Available, Enabled, ItemsPerMessage, BytesPerMessage. Its
capacity (Entries maxLimit) is a variable characteristic Joule does not keep: when the list is
too long for it, the station answers Failed and the sync records that.

Values come from the device_variables table (1.6 keys with component ''), filled by NotifyReport
or, when a sync finds them missing, by asking the station (GetConfiguration / GetVariables).
A key the station does not know is kept with value None, so it is not asked again each sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.locallist.plan import Limits
from joule.ocpp.versions import OcppVersion
from joule.storage.repositories import device as device_repo
from joule.storage.repositories import local_list as repo

Payload = dict[str, Any]

CTRLR = "LocalAuthListCtrlr"
_KEYS_16 = (
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "SupportedFeatureProfiles",
)
_VARIABLES_2X = ("Available", "Enabled", "ItemsPerMessage", "BytesPerMessage")


@dataclass(frozen=True, slots=True)
class Known:
    """What Joule knows of a station's list: limits, and why it has none (None: it has one)."""

    limits: Limits
    unsupported: str | None
    complete: bool  # every value was stored (or asked for and unknown to the station)

    @classmethod
    def unknown(cls) -> Known:
        """Nothing known: no limits applied, the list assumed supported."""
        return cls(Limits(), None, complete=False)


def _names(version: OcppVersion | None) -> list[tuple[str, str]]:
    if version is OcppVersion.V16:
        return [("", name) for name in _KEYS_16]
    return [(CTRLR, name) for name in _VARIABLES_2X]


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number > 0 else None


def _false(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "false"


def judge(version: OcppVersion | None, values: dict[tuple[str, str], str | None]) -> Known:
    """Limits and support from stored values (pure)."""
    complete = all(name in values for name in _names(version))
    if version is OcppVersion.V16:
        profiles = values.get(("", "SupportedFeatureProfiles"))
        if profiles is not None and "LocalAuthListManagement" not in profiles.split(","):
            why = "the station does not support LocalAuthListManagement (SupportedFeatureProfiles)"
            return Known(Limits(), why, complete)
        if _false(values.get(("", "LocalAuthListEnabled"))):
            return Known(
                Limits(), "the local list is disabled (LocalAuthListEnabled=false)", complete
            )
        limits = Limits(
            max_entries=_int(values.get(("", "LocalAuthListMaxLength"))),
            items_per_message=_int(values.get(("", "SendLocalListMaxLength"))),
        )
        return Known(limits, None, complete)
    names = _names(version)
    if complete and all(values.get(name) is None for name in names):
        return Known(Limits(), f"the station has no {CTRLR}", complete)
    if _false(values.get((CTRLR, "Available"))):
        return Known(Limits(), f"{CTRLR}.Available is false", complete)
    if _false(values.get((CTRLR, "Enabled"))):
        return Known(Limits(), f"the local list is disabled ({CTRLR}.Enabled=false)", complete)
    limits = Limits(
        items_per_message=_int(values.get((CTRLR, "ItemsPerMessage"))),
        bytes_per_message=_int(values.get((CTRLR, "BytesPerMessage"))),
    )
    return Known(limits, None, complete)


async def stored(session: AsyncSession, station_id: str, version: OcppVersion | None) -> Known:
    """What the stored variables say."""
    values = await repo.variable_values(session, station_id, _names(version))
    return judge(version, values)


def query(version: OcppVersion) -> tuple[str, Payload]:
    """The CALL that reads the values: 1.6 GetConfiguration, 2.x GetVariables (B06)."""
    if version is OcppVersion.V16:
        return "GetConfiguration", {"key": list(_KEYS_16)}
    return "GetVariables", {
        "getVariableData": [
            {"component": {"name": CTRLR}, "variable": {"name": name}} for name in _VARIABLES_2X
        ]
    }


def from_answer(version: OcppVersion, answer: Payload) -> list[device_repo.VariableRow]:
    """The values an answer to `query` gives, unknown ones as None."""
    rows: dict[tuple[str, str], str | None] = {name: None for name in _names(version)}
    if version is OcppVersion.V16:
        for item in answer.get("configurationKey") or ():
            name = ("", str(item.get("key")))
            if name in rows:
                rows[name] = item.get("value")
    else:
        for item in answer.get("getVariableResult") or ():
            name = (CTRLR, str(item.get("variable", {}).get("name")))
            accepted = item.get("attributeStatus") == "Accepted"
            if name in rows and accepted and item.get("component", {}).get("name") == CTRLR:
                rows[name] = item.get("attributeValue")
    return [
        device_repo.VariableRow(
            component=component,
            variable=variable,
            attribute_type="Actual",
            value=value,
            mutability=None,
        )
        for (component, variable), value in rows.items()
    ]


async def keep(
    session: AsyncSession, station_id: str, rows: list[device_repo.VariableRow], at: datetime
) -> None:
    """Store the values read (in the caller's unit of work)."""
    await device_repo.upsert_variables(
        session, station_id=station_id, rows=rows, at=at, value_only=True
    )
