"""The "uptime below threshold" alert rule: pure, and evaluated over a real status history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.domain.helpers import T0, V16, add_station, handle

from joule.domain.alerting import rules, service
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.domain.alerting.rules import Snapshot, StationState
from joule.domain.station import service as stations
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork


def settings(**params: int) -> dict[str, rules.RuleSettings]:
    return {rules.UPTIME_BELOW: rules.settings_for(rules.UPTIME_BELOW, params=params)}


def station(uptime: str | None) -> StationState:
    value = Decimal(uptime) if uptime is not None else None
    return StationState("CS-1", "S1", online=True, last_seen=T0, uptime=value)


def test_uptime_below_the_threshold_raises_one_finding_per_station() -> None:
    snap = Snapshot(stations=(station("96.99"), station(None)))
    [found] = rules.evaluate(snap, settings(), now=T0, heartbeat_interval_s=300)
    assert found.key == (rules.UPTIME_BELOW, "CS-1/uptime")
    assert found.severity == rules.WARNING and found.site_id == "S1"
    assert found.message == "CS-1 uptime 96.99 % over 7 days (threshold 97 %)"
    assert found.details == {"uptime_percent": "96.99", "days": 7}
    assert (
        rules.evaluate(
            Snapshot(stations=(station("97"),)), settings(), now=T0, heartbeat_interval_s=300
        )
        == []
    )
    # Editable: 99 % as some funding programmes ask (reporting.md §3.1).
    strict = rules.evaluate(
        Snapshot(stations=(station("98.5"),)),
        settings(percent=99),
        now=T0,
        heartbeat_interval_s=300,
    )
    assert [f.rule for f in strict] == [rules.UPTIME_BELOW]


async def status(committer: GroupCommitter, state: str, hours: float) -> None:
    at = T0 + timedelta(hours=hours)
    payload = {
        "connectorId": 1,
        "errorCode": "GroundFailure" if state == "Faulted" else "NoError",
        "status": state,
        "timestamp": at.isoformat(),
    }
    await handle(committer, V16, "StatusNotification", payload, received_at=at)


async def test_evaluator_reads_the_uptime_from_the_status_history(
    committer: GroupCommitter,
) -> None:
    await add_station(committer, at=T0)

    async def connect(uow: UnitOfWork) -> None:
        await stations.mark_connected(
            uow.session, station_id="CS-1", ocpp_version="1.6", node="n", security_profile=1, at=T0
        )

    await committer.run(connect)
    await status(committer, "Available", 0)
    await status(committer, "Unavailable", 1)
    await status(committer, "Available", 3)  # 2 h out
    clock = FixedClock(T0 + timedelta(hours=4))
    evaluator = AlertEvaluator(committer, clock, interval_s=60, heartbeat_interval_s=10**6)
    # Seen for 4 hours only (50 % up): too young to judge.
    assert [c for c in await evaluator.evaluate() if c.alert["rule"] == rules.UPTIME_BELOW] == []

    clock.set(T0 + timedelta(hours=48))  # 2 h out of 48 → 95.83 % < 97 %
    [raised] = [c for c in await evaluator.evaluate() if c.alert["rule"] == rules.UPTIME_BELOW]
    assert raised.event == "alert.raised"
    assert raised.alert["details"]["uptime_percent"] == "95.83"

    async def relax(uow: UnitOfWork) -> None:
        await service.update_rule(
            uow.session, rules.UPTIME_BELOW, enabled=None, params={"percent": 95}, at=T0
        )

    await committer.run(relax)
    [cleared] = [c for c in await evaluator.evaluate() if c.alert["rule"] == rules.UPTIME_BELOW]
    assert cleared.event == "alert.resolved"


async def test_uptime_is_recomputed_at_most_every_refresh(committer: GroupCommitter) -> None:
    await add_station(committer, at=T0)
    await status(committer, "Available", 0)
    memo = service.UptimeMemo(refresh_s=300)
    now = T0 + timedelta(hours=48)

    async def get(at_s: float) -> dict[str, Decimal | None]:
        async def work(uow: UnitOfWork) -> dict[str, Decimal | None]:
            return await memo.get(uow.session, days=7, now=now + timedelta(seconds=at_s))

        return await committer.read(work)

    assert (await get(0))["CS-1"] == Decimal(100)
    await status(committer, "Faulted", 47)  # an hour out, just before `now`
    assert (await get(60))["CS-1"] == Decimal(100)  # a minute later: the memo answers
    fresh = (await get(301))["CS-1"]
    assert fresh is not None and fresh < Decimal(98)
