"""The station page's configuration table and maintenance forms: what they send, what they show.

Configuration is read from the station itself (GetConfiguration 1.6 / GetVariables 2.x) and edited
in place (ChangeConfiguration / SetVariables); the answer (Accepted, Rejected, RebootRequired …)
is shown on the row and the value read back. Firmware and logs go through the command service's
maintenance verbs, so the dashboard sends exactly what the REST API sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from joule.domain.command import maintenance
from joule.domain.command.service import CommandService
from joule.kit.errors import Invalid

Answer = dict[str, Any]
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")


def _ref(item: dict[str, Any]) -> str:
    """A 2.x result's "Component[instance].Variable[instance]" (the key set_configuration reads)."""
    component = item.get("component") or {}
    variable = item.get("variable") or {}
    name = str(component.get("name", ""))
    if component.get("instance"):
        name += f"[{component['instance']}]"
    var = str(variable.get("name", ""))
    if variable.get("instance"):
        var += f"[{variable['instance']}]"
    return f"{name}.{var}"


def config_rows(answer: Answer) -> list[dict[str, Any]]:
    """Rows of the configuration table from a GetConfiguration or GetVariables answer."""
    rows: list[dict[str, Any]] = []
    for item in answer.get("configurationKey") or []:  # 1.6 §6.25 KeyValue
        rows.append(
            {
                "key": str(item.get("key", "")),
                "value": item.get("value"),
                "readonly": bool(item.get("readonly", False)),
                "status": "Accepted",
            }
        )
    for item in answer.get("getVariableResult") or []:  # 2.x B06 GetVariableResultType
        evse = (item.get("component") or {}).get("evse")
        rows.append(
            {
                "key": _ref(item),
                "value": item.get("attributeValue"),
                # An EVSE-scoped component cannot be named by the key alone: read, not edited here.
                "readonly": evse is not None or item.get("attributeStatus") != "Accepted",
                "status": str(item.get("attributeStatus", "")),
            }
        )
    rows.sort(key=lambda row: row["key"])
    return rows


def answer_status(answer: Answer) -> str:
    """The one word a set answered: 1.6 status, or the first SetVariableResult's status."""
    if "status" in answer:
        return str(answer["status"])
    results = answer.get("setVariableResult") or []
    return str(results[0].get("attributeStatus", "?")) if results else "?"


async def read_configuration(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    """Read every key (1.6) / the core variables (2.x), or the one key given."""
    key = str(form.get("key", "")).strip()
    answer = await c.get_configuration(sid, operator=who, keys=[key] if key else [])
    return {"rows": config_rows(answer), "unknown": answer.get("unknownKey") or []}


async def set_configuration(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    """Set one key / variable, then read it back so the row shows the station's value."""
    key = str(form.get("key", "")).strip()
    if not key:
        raise Invalid("give the configuration key to set")
    value = str(form.get("value", ""))
    answer = await c.set_configuration(sid, operator=who, key=key, value=value)
    status = answer_status(answer)
    read = await c.get_configuration(sid, operator=who, keys=[key])
    rows = [r for r in config_rows(read) if r["key"] == key]
    return {"status": status, "row": rows[0] if rows else None, "answer": answer}


def _when(form: dict[str, Any], name: str) -> datetime | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} is not a date and time") from None
    # datetime-local sends no zone: the dashboard shows and takes UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _location(form: dict[str, Any]) -> str:
    location = str(form.get("location", "")).strip()
    if "://" not in location:
        raise Invalid("give the location as a URL (https://, ftp://, …)")
    return location


async def update_firmware(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    """UpdateFirmware with the firmware's URL and when to fetch it (default: now)."""
    retrieve_at = _when(form, "retrieve_at") or datetime.now(UTC).replace(microsecond=0)
    return await maintenance.update_firmware(
        c, sid, operator=who, location=_location(form), retrieve_at=retrieve_at
    )


async def upload_log(c: CommandService, sid: str, who: str, form: dict[str, Any]) -> Answer:
    """GetDiagnostics (1.6 diagnostics) / GetLog to the given URL."""
    log_type = str(form.get("log_type", "DiagnosticsLog"))
    if log_type not in LOG_TYPES:
        raise Invalid(f"log type is one of {', '.join(LOG_TYPES)}")
    return await maintenance.upload_log(
        c,
        sid,
        operator=who,
        log_type=log_type,
        location=_location(form),
        oldest=_when(form, "oldest"),
        latest=_when(form, "latest"),
    )
