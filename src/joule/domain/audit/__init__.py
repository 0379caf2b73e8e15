"""The audit log: who changed what, when, in which organisation (issue 5)."""

from joule.domain.audit.service import record, redact

__all__ = ["record", "redact"]
