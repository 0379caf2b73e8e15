"""A fleet of simulated charging stations: an outside actor that speaks OCPP 1.6J, 2.0.1 and 2.1.

It imports only joule.ocpp and joule.kit (import-linter holds it to that), so it can drive any
CSMS. Start with Fleet / FleetPlan for many stations, SimulatedStation / StationSpec for one.
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
