"""MeterValuesReceived: the newest whole-EVSE power and register of a message, for live charts."""

from __future__ import annotations

from decimal import Decimal

from tests.domain.helpers import T0, V16, add_station, handle

from joule.domain.events import MeterValuesReceived
from joule.domain.metering import handlers as _metering_handlers  # noqa: F401
from joule.storage.committer import GroupCommitter


async def test_meter_values_publish_the_newest_power_and_energy(committer: GroupCommitter) -> None:
    await add_station(committer)
    handled = await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 2,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T11:59:00Z",
                    "sampledValue": [
                        {"value": "3.0", "measurand": "Power.Active.Import", "unit": "kW"}
                    ],
                },
                {
                    "timestamp": "2026-11-28T12:00:00Z",
                    "sampledValue": [
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                        {
                            "value": "2.4",
                            "measurand": "Power.Active.Import",
                            "unit": "kW",
                            "phase": "L1",
                        },
                        {"value": "1500", "measurand": "Energy.Active.Import.Register"},
                    ],
                },
            ],
        },
    )
    [event] = handled.of_type(MeterValuesReceived)
    assert (event.station_id, event.evse_id, event.transaction_pk) == ("CS-1", 2, None)
    assert event.power_w == Decimal("7400") and event.energy_wh == Decimal("1500")
    assert event.at == T0

    quiet = await handle(
        committer,
        V16,
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T12:00:00Z",
                    "sampledValue": [{"value": "230", "measurand": "Voltage", "unit": "V"}],
                }
            ],
        },
    )
    assert quiet.of_type(MeterValuesReceived) == []
