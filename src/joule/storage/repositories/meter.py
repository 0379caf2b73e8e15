"""Meter values: queued bulk inserts on the hot path, one row per OCPP MeterValue. Never commits."""

from __future__ import annotations

from typing import Any

from joule.storage.models import MeterValue
from joule.storage.uow import UnitOfWork

# The order of a meter-value row tuple (queue_meter_values); the last item is the reading's
# sampled values, packed (ocpp/sampled.pack).
METER_VALUE_KEYS = (
    "station_id",
    "evse_id",
    "connector_id",
    "transaction_pk",
    "timestamp",
    "energy_wh",
    "power_w",
    "sampled_values",
)


def queue_meter_values(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> None:
    """Queue meter-value rows (tuples in METER_VALUE_KEYS order) for one executemany at flush
    (T10: no row-by-row inserts)."""
    uow.bulk_insert_rows(MeterValue, METER_VALUE_KEYS, rows)
