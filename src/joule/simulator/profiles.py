"""Station profiles: vendor, model, layout and quirks, read from the JSON files in profiles/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from joule.ocpp.versions import OcppVersion
from joule.simulator.model import LAYOUTS
from joule.simulator.quirks import check_known

_PACKAGE = "joule.simulator"


@dataclass(frozen=True, slots=True)
class StationProfile:
    """How a kind of station looks and misbehaves."""

    name: str
    description: str = ""
    vendor: str = "Joule"
    model: str = "SimCharger"
    firmware: str = "1.0.0"
    ocpp: OcppVersion | None = None  # the only version this charger speaks, if fixed
    layout: str | None = None  # a key of model.LAYOUTS; None lets the fleet choose
    timezone: str | None = None  # the zone of its local-time clock (quirk local_time)
    quirks: frozenset[str] = frozenset()
    config: dict[str, str] = field(default_factory=dict)  # setting name → value at power-up
    evidence: tuple[str, ...] = ()


def _profile(data: dict[str, Any]) -> StationProfile:
    quirks = frozenset(data.get("quirks", ()))
    check_known(quirks)
    layout = data.get("layout")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"profile {data.get('name')}: unknown layout {layout!r}")
    ocpp = data.get("ocpp")
    return StationProfile(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        vendor=str(data.get("vendor", "Joule")),
        model=str(data.get("model", "SimCharger")),
        firmware=str(data.get("firmware", "1.0.0")),
        ocpp=OcppVersion(ocpp) if ocpp else None,
        layout=layout,
        timezone=data.get("timezone"),
        quirks=quirks,
        config={str(k): str(v) for k, v in data.get("config", {}).items()},
        evidence=tuple(data.get("evidence", ())),
    )


@cache
def builtin_profiles() -> dict[str, StationProfile]:
    """The profiles shipped with Joule, by name."""
    found: dict[str, StationProfile] = {}
    folder = resources.files(_PACKAGE).joinpath("profiles")
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            profile = _profile(json.loads(entry.read_text(encoding="utf-8")))
            found[profile.name] = profile
    return found


def load_profile(name_or_path: str) -> StationProfile:
    """A built-in profile by name, or one read from a JSON file path."""
    profiles = builtin_profiles()
    if name_or_path in profiles:
        return profiles[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".json" and path.is_file():
        return _profile(json.loads(path.read_text(encoding="utf-8")))
    raise ValueError(
        f"unknown station profile {name_or_path!r}; built in: {', '.join(sorted(profiles))}"
    )
