"""A fleet of simulated charging stations: an outside actor that speaks OCPP 1.6J, 2.0.1 and 2.1.

It imports only joule.ocpp and joule.kit (import-linter holds it to that), so it can drive any
CSMS. Start with Fleet / FleetPlan for many stations, SimulatedStation / StationSpec for one::

    fleet = Fleet.from_plan("ws://127.0.0.1:9000/ocpp", FleetPlan(stations=20, ocpp="mix"))
    await fleet.start()
    await fleet.wait_booted()
    station = fleet["SIM-00001"]
    station.plug_in(1, ev="sedan", soc=20)
    await station.present_token(1, "04A1B2C3")  # Authorize, then start
    station.fault(2, "GroundFailure")
    station.go_offline()  # transaction messages queue up ...
    station.come_back()  # ... and are replayed in order on reconnect
    await fleet.stop()  # drivers leave, queues drain
    print(fleet.counters(), fleet.completed())
"""

from joule.simulator.arrivals import PATTERNS, SessionPattern
from joule.simulator.fleet import Fleet, FleetPlan
from joule.simulator.model import LAYOUTS, CompletedTransaction, Counters, IdToken
from joule.simulator.profiles import StationProfile, builtin_profiles, load_profile
from joule.simulator.station import SimulatedStation, StationSpec

__all__ = [
    "LAYOUTS",
    "PATTERNS",
    "CompletedTransaction",
    "Counters",
    "Fleet",
    "FleetPlan",
    "IdToken",
    "SessionPattern",
    "SimulatedStation",
    "StationProfile",
    "StationSpec",
    "builtin_profiles",
    "load_profile",
]
