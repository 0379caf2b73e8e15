"""Local authorization: the Local Authorization List and the Authorization Cache (C16 §3.5, D01)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

ACCEPTED = "Accepted"
EXPIRED = "Expired"

# SendLocalList answers (1.6 UpdateStatus, 2.0.1 SendLocalListStatusEnumType).
FAILED = "Failed"
NOT_SUPPORTED = "NotSupported"  # 1.6 only
VERSION_MISMATCH = "VersionMismatch"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """What the list says about one token: idTagInfo / idTokenInfo."""

    status: str
    expiry: datetime | None = None  # 1.6 expiryDate / 2.0.1 cacheExpiryDateTime
    group: str | None = None  # 1.6 parentIdTag / 2.0.1 groupIdToken


@dataclass
class LocalAuth:
    """Who may charge without asking the CSMS: the list it sent and what it said before."""

    list_version: int = 0
    entries: dict[str, ListEntry] = field(default_factory=dict)  # uid (lower case) → entry
    cache: dict[str, str] = field(default_factory=dict)
    list_enabled: bool = True
    cache_enabled: bool = True
    # 1.6 LocalAuthListMaxLength (2.0.1 LocalAuthListCtrlr.Entries maxLimit): entries it can hold.
    max_entries: int | None = None
    # 1.6 SendLocalListMaxLength (2.0.1 LocalAuthListCtrlr.ItemsPerMessage): entries per message.
    max_per_message: int | None = None
    clears: int = 0  # ClearCache requests received (tests look)

    def lookup(self, uid: str, now: datetime | None = None) -> str | None:
        """The status the station knows for a token: the list first, then the cache.

        An Accepted list entry whose expiry has passed counts as Expired (C16 §3.5.1: the
        expiry date sent with the list is honoured like the cache's).
        """
        key = uid.lower()
        if self.list_enabled and key in self.entries:
            entry = self.entries[key]
            if entry.status == ACCEPTED and entry.expiry and now and entry.expiry <= now:
                return EXPIRED
            return entry.status
        if self.cache_enabled:
            return self.cache.get(key)
        return None

    def remember(self, uid: str, status: str | None) -> None:
        """Cache the CSMS's verdict on a token (C16 §3.5.1)."""
        if self.cache_enabled and status is not None:
            self.cache[uid.lower()] = status

    def clear_cache(self) -> None:
        """ClearCache."""
        self.cache.clear()
        self.clears += 1

    def update_list(
        self, version: int, update_type: str, changes: Mapping[str, ListEntry | str | None]
    ) -> str:
        """SendLocalList: Full replaces, Differential patches (an entry without info is removed).

        A differential update must carry a higher version than the station's (C16 §5.15 / 6.56
        VersionMismatch, 2.0.1 D01): otherwise VersionMismatch and nothing changes. A message
        with more entries than it takes per message, or a list longer than it can hold, fails
        and leaves the list as it was.
        """
        if not self.list_enabled:
            return FAILED
        if self.max_per_message is not None and len(changes) > self.max_per_message:
            return FAILED
        parsed = {
            uid.lower(): ListEntry(info) if isinstance(info, str) else info
            for uid, info in changes.items()
        }
        if update_type == "Differential":
            if version <= self.list_version:
                return VERSION_MISMATCH
            updated = dict(self.entries)
            for uid, info in parsed.items():
                if info is None:
                    updated.pop(uid, None)
                else:
                    updated[uid] = info
        else:
            updated = {uid: info for uid, info in parsed.items() if info is not None}
        if self.max_entries is not None and len(updated) > self.max_entries:
            return FAILED
        self.entries = updated
        self.list_version = version
        return ACCEPTED
