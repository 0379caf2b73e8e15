"""How drivers arrive and behave (pure, seeded): Poisson arrivals per EVSE and their visits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from joule.simulator.model import EV_MODELS, EvModel, IdToken

RFID = "rfid"
APP = "app"  # the driver starts from an app: the CSMS sends a remote start

UNPLUG = "unplug"  # the driver just pulls the cable (EVDisconnected)
TOKEN = "token"  # the driver presents the token again to stop (Local / StopAuthorized)


@dataclass(frozen=True, slots=True)
class SessionPattern:
    """The traffic of a fleet: how often EVs arrive, how long they stay, how they start and stop.

    Times are in seconds so a test can compress an evening into seconds and a demo into minutes.
    """

    arrivals_per_hour: float = 0.5  # per free EVSE (a Poisson process)
    dwell_s: tuple[float, float] = (1800.0, 14_400.0)  # how long the EV stays plugged in
    present_after_s: tuple[float, float] = (2.0, 8.0)  # plug-in → token or app start
    unplug_after_s: tuple[float, float] = (3.0, 20.0)  # stop → cable out
    soc_start: tuple[int, int] = (10, 60)
    soc_target: tuple[int, int] = (80, 100)
    app_share: float = 0.0  # of visits started from an app (needs a remote starter)
    token_stop_share: float = 0.5  # of visits ended with the token rather than by unplugging
    leave_when_full_share: float = 0.3  # of drivers who come back as soon as the EV is full
    warm_start_share: float = 0.0  # of EVSEs that see their first arrival within seconds
    ev_models: tuple[str, ...] = tuple(EV_MODELS)


# Compressed patterns by name: `fast` for tests, `demo` for a living dashboard.
PATTERNS: dict[str, SessionPattern] = {
    "realistic": SessionPattern(),
    "demo": SessionPattern(
        arrivals_per_hour=20.0,
        dwell_s=(90.0, 480.0),
        present_after_s=(2.0, 6.0),
        unplug_after_s=(3.0, 12.0),
        app_share=0.3,
        warm_start_share=0.5,
    ),
    "fast": SessionPattern(
        arrivals_per_hour=900.0,
        dwell_s=(3.0, 8.0),
        present_after_s=(0.3, 1.0),
        unplug_after_s=(0.3, 1.0),
        token_stop_share=0.5,
        warm_start_share=1.0,
    ),
}


@dataclass(frozen=True, slots=True)
class Visit:
    """One EV visit to an EVSE, drawn in advance."""

    ev: EvModel
    soc_start: Decimal
    soc_target: Decimal
    token: IdToken
    start_by: str  # RFID | APP
    stop_by: str  # UNPLUG | TOKEN
    present_after_s: float
    dwell_s: float
    unplug_after_s: float
    leave_when_full: bool = False


def next_arrival_s(rng: random.Random, pattern: SessionPattern, *, first: bool = False) -> float:
    """Seconds until the next EV arrives at a free EVSE (exponential inter-arrival times)."""
    if pattern.arrivals_per_hour <= 0:
        return float("inf")  # no traffic of its own: only scripted or commanded sessions
    if first and rng.random() < pattern.warm_start_share:
        return rng.uniform(0.5, 5.0)
    return rng.expovariate(pattern.arrivals_per_hour / 3600.0)


def draw_visit(
    rng: random.Random,
    pattern: SessionPattern,
    tokens: Sequence[IdToken],
    *,
    app_available: bool,
) -> Visit:
    """The next visit: which EV, how full, which token, how it starts and ends."""
    name = rng.choice(pattern.ev_models)
    soc_start = rng.randint(*pattern.soc_start)
    soc_target = max(soc_start + 5, rng.randint(*pattern.soc_target))
    return Visit(
        ev=EV_MODELS[name],
        soc_start=Decimal(soc_start),
        soc_target=Decimal(min(soc_target, 100)),
        token=rng.choice(tokens),
        start_by=APP if app_available and rng.random() < pattern.app_share else RFID,
        stop_by=TOKEN if rng.random() < pattern.token_stop_share else UNPLUG,
        present_after_s=rng.uniform(*pattern.present_after_s),
        dwell_s=rng.uniform(*pattern.dwell_s),
        unplug_after_s=rng.uniform(*pattern.unplug_after_s),
        leave_when_full=rng.random() < pattern.leave_when_full_share,
    )
