"""metering.rules: live register choice, kWh-as-Wh detection, register updates (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from joule.domain.metering.rules import (
    QUIRK_KWH_AS_WH,
    QUIRK_METER_RESET,
    is_live_register,
    looks_like_kwh_as_wh,
    plan_register_update,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("measurand", "location", "phase", "live"),
    [
        ("Energy.Active.Import.Register", None, None, True),
        ("Energy.Active.Import.Register", "Outlet", None, True),
        ("Energy.Active.Import.Register", "Inlet", None, False),
        ("Energy.Active.Import.Register", None, "L1", False),
        ("Energy.Active.Export.Register", None, None, False),
        ("Power.Active.Import", None, None, False),
    ],
)
def test_is_live_register(
    measurand: str, location: str | None, phase: str | None, live: bool
) -> None:
    assert is_live_register(measurand, location, phase) is live


@pytest.mark.parametrize(
    ("previous", "current", "flag"),
    [
        ("12345", "12.4", True),  # the same register in kWh, a little energy later
        ("12345", "12.345", True),
        ("10000", "15", True),  # 5 kWh charged between the two samples
        ("12345", "12346", False),  # up
        ("12345", "0", False),
        ("12345", "3", False),  # a reset to near zero, not a factor ≈1000
        ("12345", "6000", False),
    ],
)
def test_looks_like_kwh_as_wh(previous: str, current: str, flag: bool) -> None:
    assert looks_like_kwh_as_wh(Decimal(previous), Decimal(current)) is flag


def test_plan_register_update() -> None:
    later = T0 + timedelta(minutes=1)
    assert plan_register_update(None, None, Decimal(5), T0).advance
    assert plan_register_update(Decimal(5), T0, Decimal(9), later).advance
    # Older than the latest (offline replay / out-of-order): stored, not the latest.
    older = plan_register_update(Decimal(9), later, Decimal(5), T0)
    assert not older.advance
    assert older.quirk is None
    kwh = plan_register_update(Decimal(12345), T0, Decimal("12.4"), later)
    assert (kwh.advance, kwh.quirk) == (False, QUIRK_KWH_AS_WH)
    reset = plan_register_update(Decimal(12345), T0, Decimal(3), later)
    assert (reset.advance, reset.quirk) == (False, QUIRK_METER_RESET)
