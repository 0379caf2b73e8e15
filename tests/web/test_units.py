"""Pure parts of the dashboard: SVG charts, event encoding, the live hub's fan-out, formatting."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from joule.bus.memory import MemoryBus
from joule.domain.events import ConnectorStatusChanged, TransactionUpdated
from joule.storage.models import SampledValue, StatusInterval
from joule.web.charts import meter_chart, number, status_timeline
from joule.web.fmt import kwh, pretty, utc, when
from joule.web.live import QUEUE_SIZE, LiveHub, encode

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def interval(status: str, start: int, end: int | None, evse: int = 1) -> StatusInterval:
    return StatusInterval(
        station_id="S",
        evse_id=evse,
        connector_id=1,
        status=status,
        error_code=None,
        started_at=(T0 + timedelta(minutes=start)).replace(tzinfo=None),  # as SQLite returns it
        ended_at=T0 + timedelta(minutes=end) if end is not None else None,
    )


def test_status_timeline_draws_one_lane_per_connector_and_escapes() -> None:
    svg = status_timeline(
        [interval("Available", 0, 30), interval("Faulted", 30, None), interval("<x>", 0, 60, 2)],
        start=T0,
        end=T0 + timedelta(minutes=60),
    )
    assert svg.count("<rect") == 3 and "EVSE 1 / 1" in svg and "EVSE 2 / 1" in svg
    assert 'class="st-ok"' in svg and 'class="st-fault"' in svg and 'class="st-unknown"' in svg
    assert "<x>" not in svg and "&lt;x&gt;" in svg
    # Available covers the first half of the 630-unit plot, Faulted the rest up to `end`.
    assert 'width="315.0"' in svg
    assert "No status changes" in status_timeline([], start=T0, end=T0)


def sample(measurand: str, minute: int, value: str, unit: str) -> SampledValue:
    at = T0 + timedelta(minutes=minute)
    return SampledValue(
        "S", 1, 1, None, at, measurand, None, None, None, Decimal(value), unit, value, unit, None
    )


def test_meter_chart_plots_power_and_energy_on_their_own_scales() -> None:
    values = [
        sample("Power.Active.Import", 0, "7200.000000", "W"),
        sample("Power.Active.Import", 10, "11000.000000", "W"),
        sample("Energy.Active.Import.Register", 0, "1000", "Wh"),
        sample("Energy.Active.Import.Register", 10, "2500", "Wh"),
        sample("SoC", 10, "80", "Percent"),
    ]
    svg = meter_chart(values)
    assert 'class="line-power"' in svg and 'class="line-energy"' in svg and "SoC" not in svg
    assert "Power.Active.Import: 7200 – 11000 W" in svg
    assert "Energy.Active.Import.Register: 1000 – 2500 Wh" in svg
    assert "No power or energy" in meter_chart([])
    assert number(Decimal("7.200")) == "7.2" and number(Decimal("1E+3")) == "1000"


def test_formatting_is_utc_and_decimal() -> None:
    assert utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert when(None) == "—" and when(T0) == "2026-11-28 08:00:00Z"
    assert kwh(Decimal("1234.5")) == "1.235 kWh" and kwh(None) == "—"
    assert pretty('[2,"1","Heartbeat",{}]').startswith("[\n") and pretty("[2,tru") == "[2,tru"


def test_events_are_encoded_for_the_browser() -> None:
    event = TransactionUpdated(transaction_pk=7, station_id="S", energy_wh=Decimal("12.5"), at=T0)
    station, name, data = encode(event) or ("", "", "")
    assert (station, name) == ("S", "TransactionUpdated")
    assert json.loads(data) == {
        "transaction_pk": 7,
        "station_id": "S",
        "energy_wh": "12.5",
        "at": "2026-11-28T08:00:00+00:00",
    }
    assert encode(object()) is None


def status(station: str, value: str = "Charging") -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        station_id=station, evse_id=1, connector_id=1, status=value, error_code=None, at=T0
    )


async def test_the_hub_filters_by_station_and_never_blocks_the_bus() -> None:
    bus = MemoryBus()
    hub = LiveHub()
    hub.attach(bus)
    fleet, one = hub.open(None), hub.open("A")
    await bus.publish(status("A"))
    await bus.publish(status("B"))
    await bus.publish(object())  # not a dashboard event
    assert fleet.queue.qsize() == 2 and one.queue.qsize() == 1
    for _ in range(QUEUE_SIZE + 5):
        await bus.publish(status("A"))
    assert one.lagging and one.queue.full()

    body = hub.messages(hub.open("C"))
    assert (await anext(body)).startswith("retry: ")
    assert "event: hello" in await anext(body)
    pending = asyncio.ensure_future(anext(body))
    await bus.publish(status("C", "Faulted"))
    message = await asyncio.wait_for(pending, 20)
    assert message.startswith("event: ConnectorStatusChanged\ndata: ") and "Faulted" in message
    hub.close()
    assert await anext(body, None) is None  # the stream ends at shutdown
    assert hub.open_streams == 2  # the two that were never read are dropped with the app
