"""Identifiers."""

from __future__ import annotations

import uuid


def new_message_id() -> str:
    """A fresh OCPP-J message id (≤ 36 chars, J16 Table 3)."""
    return str(uuid.uuid4())
