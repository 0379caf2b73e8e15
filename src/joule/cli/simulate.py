"""`joule simulate`: run a fleet of simulated stations against a CSMS (Joule or any other)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from joule.cli.common import setup_logging
from joule.simulator.arrivals import PATTERNS
from joule.simulator.fleet import FleetPlan
from joule.simulator.model import IdToken
from joule.simulator.profiles import builtin_profiles, load_profile
from joule.simulator.runner import RunOptions, run_fleet

_VERSIONS = ("1.6", "2.0.1", "2.1", "mix")


def _tokens(path: Path | None, uids: list[str]) -> tuple[IdToken, ...]:
    found = list(uids)
    if path is not None:
        found += [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return tuple(IdToken(uid) for uid in found)


def simulate(
    url: str = typer.Option(..., help="The CSMS's OCPP endpoint, e.g. ws://127.0.0.1:9000/ocpp"),
    stations: int = typer.Option(10, min=1, help="How many stations"),
    ocpp: str = typer.Option("mix", help="1.6 | 2.0.1 | 2.1 | mix"),
    profile: str = typer.Option(
        "default", help=f"Station profile: a JSON file or one of {', '.join(builtin_profiles())}"
    ),
    password_file: Path | None = typer.Option(
        None, help="File with the Basic-auth password every station uses (security profile 1)"
    ),
    duration: float | None = typer.Option(None, help="Seconds to run [until Ctrl-C]"),
    processes: int = typer.Option(1, min=1, help="Processes, each running a slice of the fleet"),
    prefix: str = typer.Option("SIM", help="Station ids are PREFIX-00001, PREFIX-00002, …"),
    pattern: str = typer.Option("realistic", help=f"Session pattern: {', '.join(PATTERNS)}"),
    meter_interval: int = typer.Option(60, min=1, help="MeterValueSampleInterval in seconds"),
    token: list[str] = typer.Option([], help="An id token drivers present (repeatable)"),
    tokens_file: Path | None = typer.Option(None, help="File with id tokens, one per line"),
    ramp: float = typer.Option(0.0, help="Spread the stations' power-up over this many seconds"),
    tick: float = typer.Option(1.0, help="Seconds between simulation steps"),
    seed: int = typer.Option(0, help="Random seed (the same seed gives the same fleet)"),
    no_schema_check: bool = typer.Option(
        False, "--no-schema-check", help="Skip checking frames against the OCPP schemas"
    ),
) -> None:
    """Simulate N charging stations: boots, sessions, meter values, commands, a live summary."""
    setup_logging(os.environ.get("JOULE_LOG_LEVEL", "WARNING"))
    if ocpp not in _VERSIONS:
        raise typer.BadParameter(f"--ocpp must be one of {', '.join(_VERSIONS)}")
    if pattern not in PATTERNS:
        raise typer.BadParameter(f"--pattern must be one of {', '.join(PATTERNS)}")
    try:
        station_profile = load_profile(profile)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    password = password_file.read_text().strip() if password_file else None
    plan = FleetPlan(
        stations=stations,
        ocpp=ocpp,
        profile=station_profile,
        prefix=prefix,
        password=password,
        pattern=PATTERNS[pattern],
        tokens=_tokens(tokens_file, token),
        config={"MeterValueSampleInterval": str(meter_interval)},
        seed=seed,
    )
    options = RunOptions(
        url=url,
        plan=plan,
        duration_s=duration,
        processes=min(processes, stations),
        tick_s=tick,
        ramp_s=ramp,
        check_schemas=not no_schema_check,
    )
    final = run_fleet(options, Console(stderr=True))
    if final["booted"] == 0:
        raise typer.Exit(1)
