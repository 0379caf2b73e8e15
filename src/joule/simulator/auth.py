"""Local authorization: the Local Authorization List and the Authorization Cache (C16 §3.5, D01)."""

from __future__ import annotations

from dataclasses import dataclass, field

ACCEPTED = "Accepted"


@dataclass
class LocalAuth:
    """Who may charge without asking the CSMS: the list it sent and what it said before."""

    list_version: int = 0
    entries: dict[str, str] = field(default_factory=dict)  # uid (lower case) → status
    cache: dict[str, str] = field(default_factory=dict)
    list_enabled: bool = True
    cache_enabled: bool = True

    def lookup(self, uid: str) -> str | None:
        """The status the station knows for a token: the list first, then the cache."""
        key = uid.lower()
        if self.list_enabled and key in self.entries:
            return self.entries[key]
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

    def update_list(self, version: int, update_type: str, changes: dict[str, str | None]) -> str:
        """SendLocalList: Full replaces, Differential patches (an entry without info is removed).

        A differential update must carry a higher version than the station's (C16 §5.15, 2.0.1
        D01): otherwise VersionMismatch and nothing changes.
        """
        if not self.list_enabled:
            return "Failed"
        if update_type == "Differential":
            if version <= self.list_version:
                return "VersionMismatch"
            for uid, status in changes.items():
                if status is None:
                    self.entries.pop(uid.lower(), None)
                else:
                    self.entries[uid.lower()] = status
        else:
            self.entries = {uid.lower(): s for uid, s in changes.items() if s is not None}
        self.list_version = version
        return ACCEPTED
