"""Local authorization list planning (pure): what to send a station so it holds the target list.

Given the entries the station holds (as Joule last confirmed them), the target entries and the
station's limits, produce the SendLocalList messages: a Full update, or a Differential one when
the station's confirmed version is ours (1.6 §5.15, 2.0.1 D01). Messages are cut to the station's
per-message limits (1.6 SendLocalListMaxLength; 2.0.1 LocalAuthListCtrlr.ItemsPerMessage and
BytesPerMessage); a list cut in parts is a Full first part followed by Differential parts, each
with the next version, because a Full update replaces whatever the station held.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from joule.kit.clock import utc_iso
from joule.ocpp.versions import OcppVersion

Payload = dict[str, Any]
UpdateType = Literal["Full", "Differential"]

ACCEPTED = "Accepted"
FULL: UpdateType = "Full"
DIFFERENTIAL: UpdateType = "Differential"

# idTag is CiString20 in 1.6, idToken CiString36 in 2.x: longer ids cannot be listed.
_MAX_UID = {OcppVersion.V16: 20}
_MAX_UID_2X = 36
# 1.6 AuthorizationStatus has none of 2.0.1's finer refusals: a station is told Invalid.
_STATUSES_16 = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})
# Room for the frame around the entries: [2,"<message id>","SendLocalList",{"listVersion":…,
# "updateType":"Differential","localAuthorizationList":[…]}] with a 36-character message id.
FRAME_OVERHEAD_BYTES = 160


@dataclass(frozen=True, slots=True)
class Entry:
    """One token as the list carries it (idTagInfo / idTokenInfo)."""

    uid: str
    type: str
    status: str
    expiry: datetime | None
    group_id: str | None


@dataclass(frozen=True, slots=True)
class Limits:
    """What the station takes; None = not known (no limit applied)."""

    max_entries: int | None = None  # 1.6 LocalAuthListMaxLength, 2.0.1 Entries maxLimit
    items_per_message: int | None = None  # 1.6 SendLocalListMaxLength, 2.0.1 ItemsPerMessage
    bytes_per_message: int | None = None  # 2.0.1 BytesPerMessage


@dataclass(frozen=True, slots=True)
class Change:
    """An entry to add or replace, or (entry None) a token to remove (differential only)."""

    uid: str
    entry: Entry | None


@dataclass(frozen=True, slots=True)
class Message:
    """One SendLocalList request, before it is put in a version's words."""

    update_type: UpdateType
    version: int
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Fitted:
    """The target as the station can hold it."""

    entries: dict[str, Entry]  # key: uid folded to lower case (ids are case-insensitive)
    left_out: int  # entries that did not fit (too many, or an id too long for the version)


def key(uid: str) -> str:
    """The list key of an id: idTag / idToken compare case-insensitively (CiString)."""
    return uid.lower()


def fit(target: Iterable[Entry], version: OcppVersion, limits: Limits) -> Fitted:
    """The target entries the station can hold: ids its version can carry, at most max_entries.

    When the list is too long, Accepted entries go first (they let drivers charge offline);
    refusals come after, so a cut list loses refusals before permissions. Order is by uid so
    the same target always fits the same way.
    """
    longest = _MAX_UID.get(version, _MAX_UID_2X)
    usable = [e for e in target if 0 < len(e.uid) <= longest]
    unique: dict[str, Entry] = {}
    for entry in sorted(usable, key=lambda e: (e.status != ACCEPTED, e.uid)):
        unique.setdefault(key(entry.uid), entry)
    kept = list(unique.items())
    if limits.max_entries is not None:
        kept = kept[: max(limits.max_entries, 0)]
    total = len(list(target)) if not isinstance(target, Sequence) else len(target)
    return Fitted(entries=dict(kept), left_out=max(total - len(kept), 0))


def diff(held: Mapping[str, Entry], target: Mapping[str, Entry]) -> list[Change]:
    """The differential changes that turn `held` into `target` (both keyed by `key`).

    Removed tokens are deletions: an entry without idTagInfo / idTokenInfo (1.6 §5.15,
    2.0.1 D01: an entry without info in a differential update is removed from the list).
    """
    changes = [
        Change(entry.uid, entry)
        for k, entry in sorted(target.items())
        if k not in held or held[k] != entry
    ]
    changes += [Change(held[k].uid, None) for k in sorted(held) if k not in target]
    return changes


def withdrawn(held: Mapping[str, Entry], target: Mapping[str, Entry]) -> list[str]:
    """Ids the station held as Accepted that it must no longer accept (removed or refused now).

    The station's authorization cache may still hold them as Accepted: the list update alone
    does not reach the cache, so these call for ClearCache (1.6 §5.4, 2.0.1 C11).
    """
    return sorted(
        entry.uid
        for k, entry in held.items()
        if entry.status == ACCEPTED and (k not in target or target[k].status != ACCEPTED)
    )


def entry_payload(version: OcppVersion, change: Change, group_types: Mapping[str, str]) -> Payload:
    """One AuthorizationData of the version: the id, and its info unless it is a removal.

    Expiry dates are sent (authorization cache semantics: the station stops accepting the id
    offline when it passes; 1.6 idTagInfo.expiryDate, 2.0.1 idTokenInfo.cacheExpiryDateTime).
    """
    entry = change.entry
    if version is OcppVersion.V16:
        item: Payload = {"idTag": change.uid}
        if entry is not None:
            info: Payload = {"status": entry.status if entry.status in _STATUSES_16 else "Invalid"}
            if entry.expiry is not None:
                info["expiryDate"] = utc_iso(entry.expiry)
            if entry.group_id and len(entry.group_id) <= _MAX_UID[OcppVersion.V16]:
                info["parentIdTag"] = entry.group_id
            item["idTagInfo"] = info
        return item
    token_type = entry.type if entry is not None else group_types.get(key(change.uid), "Central")
    item = {"idToken": {"idToken": change.uid, "type": token_type}}
    if entry is not None:
        info = {"status": entry.status}
        if entry.expiry is not None:
            info["cacheExpiryDateTime"] = utc_iso(entry.expiry)
        if entry.group_id and len(entry.group_id) <= _MAX_UID_2X:
            group_type = group_types.get(key(entry.group_id), "Central")
            info["groupIdToken"] = {"idToken": entry.group_id, "type": group_type}
        item["idTokenInfo"] = info
    return item


def request_payload(
    version: OcppVersion, message: Message, group_types: Mapping[str, str]
) -> Payload:
    """The SendLocalList request payload for the station's version."""
    items = [entry_payload(version, change, group_types) for change in message.changes]
    if version is OcppVersion.V16:
        return {
            "listVersion": message.version,
            "updateType": message.update_type,
            "localAuthorizationList": items,
        }
    payload: Payload = {"versionNumber": message.version, "updateType": message.update_type}
    if items:  # 2.0.1: minItems 1; a Full update without a list empties it
        payload["localAuthorizationList"] = items
    return payload


def _size(item: Payload) -> int:
    return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()) + 1


def chunk(
    changes: Sequence[Change], limits: Limits, size_of: Callable[[Change], int]
) -> list[list[Change]]:
    """Cut changes into parts within items_per_message and bytes_per_message (at least one part).

    An entry too large for any message on its own still goes alone: the station will answer
    Failed, which is then recorded, rather than the entry being dropped without a word.
    """
    per_message = limits.items_per_message if limits.items_per_message else None
    budget = limits.bytes_per_message - FRAME_OVERHEAD_BYTES if limits.bytes_per_message else None
    parts: list[list[Change]] = []
    current: list[Change] = []
    used = 0
    for change in changes:
        size = size_of(change)
        full_count = per_message is not None and len(current) >= per_message
        full_bytes = budget is not None and current and used + size > budget
        if full_count or full_bytes:
            parts.append(current)
            current, used = [], 0
        current.append(change)
        used += size
    parts.append(current)
    return parts


def plan(
    version: OcppVersion,
    *,
    update_type: UpdateType,
    changes: Sequence[Change],
    next_version: int,
    limits: Limits,
    group_types: Mapping[str, str],
) -> list[Message]:
    """The messages of one update, versions next_version, next_version + 1, …

    A Full update cut in parts: the first part Full (it replaces the list), the rest
    Differential (each adds to it, and a differential update needs a higher version).
    """

    def size_of(change: Change) -> int:
        return _size(entry_payload(version, change, group_types))

    parts = chunk(changes, limits, size_of)
    return [
        Message(
            update_type=update_type if index == 0 else DIFFERENTIAL,
            version=next_version + index,
            changes=tuple(part),
        )
        for index, part in enumerate(parts)
    ]


def apply(held: Mapping[str, Entry], message: Message) -> dict[str, Entry]:
    """What the station holds after accepting a message (as the station applies it)."""
    result: dict[str, Entry] = {} if message.update_type == FULL else dict(held)
    for change in message.changes:
        if change.entry is None:
            result.pop(key(change.uid), None)
        else:
            result[key(change.uid)] = change.entry
    return result
