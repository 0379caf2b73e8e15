"""The official OCPP JSON schemas, as shipped in the `ocpp` package, indexed by action.

This is the only module that reaches into the `ocpp` distribution; it reads files and never
imports the library's code (its routing and validation are not used on our hot path).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, Literal

import orjson

from joule.ocpp.versions import OcppVersion

MessageKind = Literal["request", "response"]

_PACKAGE_DIR = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}


def _schema_dir(version: OcppVersion) -> Traversable:
    return resources.files("ocpp").joinpath(_PACKAGE_DIR[version], "schemas")


@cache
def schema_files(version: OcppVersion) -> MappingProxyType[tuple[str, MessageKind], str]:
    """Map (action, kind) to the schema file name for every message of a version."""
    index: dict[tuple[str, MessageKind], str] = {}
    for entry in _schema_dir(version).iterdir():
        name = entry.name
        if not name.endswith(".json"):
            continue
        stem = name[: -len(".json")]
        if stem.endswith("Response"):
            index[(stem[: -len("Response")], "response")] = name
        elif version is not OcppVersion.V16 and stem.endswith("Request"):
            index[(stem[: -len("Request")], "request")] = name
        else:
            # 1.6 names requests after the action itself; in 2.1 a file without a suffix is a
            # SEND message (MessageTypeId 6, e.g. NotifyPeriodicEventStream) with no response.
            index[(stem, "request")] = name
    return MappingProxyType(index)


@cache
def schema_actions(version: OcppVersion) -> frozenset[str]:
    """Every action that has a request schema in this version."""
    return frozenset(action for action, kind in schema_files(version) if kind == "request")


@cache
def unconfirmed_actions(version: OcppVersion) -> frozenset[str]:
    """Actions with a request schema but no response: 2.1 SEND messages."""
    files = schema_files(version)
    return frozenset(a for a in schema_actions(version) if (a, "response") not in files)


@cache
def load_schema(version: OcppVersion, action: str, kind: MessageKind) -> dict[str, Any]:
    """The parsed schema for one message; shared and cached, so callers must not mutate it."""
    try:
        name = schema_files(version)[(action, kind)]
    except KeyError:
        raise KeyError(f"no OCPP {version.value} {kind} schema for {action!r}") from None
    loaded: dict[str, Any] = orjson.loads(_schema_dir(version).joinpath(name).read_bytes())
    return loaded
