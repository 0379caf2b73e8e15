"""DataTransfer rules (pure): how much of the data is kept."""

from __future__ import annotations

import json
from typing import Any

MAX_STORED_DATA_BYTES = 64 * 1024  # Q28 / scenario 25: keep at most 64 KiB of a DataTransfer


def stored_data(data: Any, limit: int = MAX_STORED_DATA_BYTES) -> str | None:
    """The data as text (2.x allows any JSON value), cut to `limit` UTF-8 bytes."""
    if data is None:
        return None
    text = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    # Cut on a byte boundary and drop a multi-byte character the cut would split.
    return encoded[:limit].decode("utf-8", "ignore")


def reply_data_16(data: Any) -> str | None:
    """1.6 DataTransfer.conf data is a string: encode anything else as JSON."""
    if data is None or isinstance(data, str):
        return data
    return json.dumps(data, separators=(",", ":"))
