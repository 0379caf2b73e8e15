"""The audit log: who changed what, when, in which organisation (issue 5)."""

from joule.domain.audit.service import list_entries, record, redact

__all__ = ["list_entries", "record", "redact"]
