"""A fleet of simulated stations: built from a few parameters, started, watched, stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from joule.kit.clock import Clock
from joule.ocpp.versions import OcppVersion
from joule.simulator.arrivals import PATTERNS, SessionPattern
from joule.simulator.chargepoint import RemoteStarter
from joule.simulator.model import LAYOUTS, CompletedTransaction, Counters, IdToken
from joule.simulator.profiles import StationProfile, builtin_profiles
from joule.simulator.station import SimulatedStation, StationSpec

# A mixed fleet: 2 of 5 stations speak 1.6, 2 speak 2.0.1, 1 speaks 2.1.
MIX: tuple[OcppVersion, ...] = (
    OcppVersion.V16,
    OcppVersion.V201,
    OcppVersion.V16,
    OcppVersion.V21,
    OcppVersion.V201,
)
_LAYOUT_CYCLE = ("ac3x2", "ac1", "dc", "mixed", "ac3", "ac3x2", "hpc")


def versions_for(ocpp: str) -> tuple[OcppVersion, ...]:
    """The version cycle for --ocpp: one version, or `mix`."""
    return MIX if ocpp == "mix" else (OcppVersion(ocpp),)


@dataclass(frozen=True)
class FleetPlan:
    """How to build a fleet: N stations named PREFIX-00001…, their versions and behaviour."""

    stations: int
    ocpp: str = "mix"  # 1.6 | 2.0.1 | 2.1 | mix
    profile: StationProfile = field(default_factory=lambda: builtin_profiles()["default"])
    prefix: str = "SIM"
    first: int = 1  # number of the first station (a process runs a slice of the fleet)
    password: str | None = None
    pattern: SessionPattern = PATTERNS["realistic"]
    tokens: tuple[IdToken, ...] = ()
    config: dict[str, str] = field(default_factory=dict)
    seed: int = 0

    def specs(self) -> list[StationSpec]:
        """One StationSpec per station."""
        cycle = versions_for(self.ocpp)
        out: list[StationSpec] = []
        for number in range(self.first, self.first + self.stations):
            version = self.profile.ocpp or cycle[(number - 1) % len(cycle)]
            layout = self.profile.layout or _LAYOUT_CYCLE[(number - 1) % len(_LAYOUT_CYCLE)]
            out.append(
                StationSpec(
                    station_id=station_id(self.prefix, number),
                    version=version,
                    evses=LAYOUTS[layout],
                    profile=self.profile,
                    password=self.password,
                    pattern=self.pattern,
                    tokens=self.tokens,
                    config=dict(self.config),
                    seed=self.seed * 1_000_003 + number,
                )
            )
        return out

    def slice(self, first: int, count: int) -> FleetPlan:
        """The plan for stations first … first + count − 1 (one process's share)."""
        return replace(self, first=first, stations=count)


def station_id(prefix: str, number: int) -> str:
    """The identity of station `number` of a fleet."""
    return f"{prefix}-{number:05d}"


class Fleet:
    """Many stations against one CSMS, scriptable from Python."""

    def __init__(
        self,
        url: str,
        specs: Sequence[StationSpec],
        *,
        clock: Clock | None = None,
        remote_starter: RemoteStarter | None = None,
        check_schemas: bool = True,
        tick_s: float = 1.0,
        traffic: bool = True,
    ) -> None:
        self.url = url
        self.stations: dict[str, SimulatedStation] = {
            spec.station_id: SimulatedStation(
                spec,
                url,
                clock=clock,
                remote_starter=remote_starter,
                check_schemas=check_schemas,
                tick_s=tick_s,
                traffic=traffic,
            )
            for spec in specs
        }

    @classmethod
    def from_plan(
        cls,
        url: str,
        plan: FleetPlan,
        *,
        remote_starter: RemoteStarter | None = None,
        check_schemas: bool = True,
        tick_s: float = 1.0,
    ) -> Fleet:
        """A fleet built from a plan."""
        return cls(
            url,
            plan.specs(),
            remote_starter=remote_starter,
            check_schemas=check_schemas,
            tick_s=tick_s,
        )

    def __getitem__(self, station_id: str) -> SimulatedStation:
        return self.stations[station_id]

    def __iter__(self) -> Iterator[SimulatedStation]:
        return iter(self.stations.values())

    def __len__(self) -> int:
        return len(self.stations)

    async def start(self, *, ramp_s: float = 0.0) -> None:
        """Power every station up, spread over `ramp_s` seconds (0: all at once)."""
        gap = ramp_s / len(self.stations) if self.stations and ramp_s > 0 else 0.0
        for station in self.stations.values():
            await station.start()
            if gap:
                await asyncio.sleep(gap)

    async def wait_booted(self, timeout: float = 60.0) -> None:
        """Wait until every station's boot was Accepted."""
        async with asyncio.timeout(timeout):
            for station in self.stations.values():
                await station.booted.wait()

    async def stop(self, *, end_sessions: bool = True, drain_s: float = 15.0) -> None:
        """Drivers leave, queued messages go out, every station disconnects."""
        await asyncio.gather(
            *(s.stop(end_sessions=end_sessions, drain_s=drain_s) for s in self.stations.values())
        )

    async def run(self, duration_s: float, *, stop: asyncio.Event | None = None) -> Counters:
        """Start, run for `duration_s` (or until `stop` is set), stop; return the counters."""
        await self.start()
        waiter = stop or asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), duration_s)
        await self.stop()
        return self.counters()

    def counters(self) -> Counters:
        """Every station's counters, summed."""
        total = Counters()
        for station in self.stations.values():
            total.add(station.counters)
        return total

    def online(self) -> int:
        """Stations connected with an Accepted boot right now."""
        return sum(1 for s in self.stations.values() if s.online)

    def active_sessions(self) -> int:
        """Transactions running right now."""
        return sum(len(s.sessions()) for s in self.stations.values())

    def completed(self) -> list[CompletedTransaction]:
        """Every delivered completed transaction, with its metered energy."""
        return [tx for s in self.stations.values() for tx in s.completed]
