"""Alert service on a real database: snapshot from handled OCPP messages, raise, de-duplicate,
acknowledge, auto-resolve, rule thresholds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.domain.helpers import T0, V16, add_station, handle, rows

from joule.domain.alerting import rules, service
from joule.domain.alerting.evaluator import AlertEvaluator, rest_after
from joule.domain.alerting.rules import Finding
from joule.domain.alerting.service import AlertChanged
from joule.domain.events import StationBooted
from joule.domain.station import service as stations
from joule.kit.clock import FixedClock
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.storage.committer import GroupCommitter
from joule.storage.db import session_factory
from joule.storage.models import Alert
from joule.storage.repositories import alert as alert_repo
from joule.storage.uow import UnitOfWork


def finding(target: str = "CS-1/1/1", message: str = "Faulted") -> Finding:
    return Finding(rules.CONNECTOR_FAULTED, target, "CS-1", None, "critical", message, {})


async def reconcile(
    committer: GroupCommitter, *found: Finding, minutes: int = 0
) -> list[AlertChanged]:
    async def work(uow: UnitOfWork) -> list[AlertChanged]:
        return await service.reconcile(uow, list(found), now=T0 + timedelta(minutes=minutes))

    return await committer.run(work)


async def test_one_alert_per_rule_and_target_until_it_resolves(committer: GroupCommitter) -> None:
    raised = await reconcile(committer, finding(), finding("CS-1/2/1"))
    assert [c.event for c in raised] == ["alert.raised", "alert.raised"]
    again = await reconcile(
        committer, finding(message="Faulted (GroundFailure)"), finding("CS-1/2/1"), minutes=1
    )
    assert again == []
    first, _ = await rows(committer, Alert)
    assert first.message == "Faulted (GroundFailure)"
    assert first.last_seen_at.replace(tzinfo=None) == (T0 + timedelta(minutes=1)).replace(
        tzinfo=None
    )

    resolved = await reconcile(committer, finding("CS-1/2/1"), minutes=2)
    assert [(c.event, c.alert["target"]) for c in resolved] == [("alert.resolved", "CS-1/1/1")]
    # The condition comes back: a new alert, the resolved one stays as history.
    back = await reconcile(committer, finding(), finding("CS-1/2/1"), minutes=3)
    assert [c.event for c in back] == ["alert.raised"]
    assert [a.state for a in await rows(committer, Alert)] == ["resolved", "open", "open"]


async def test_a_raise_the_database_already_holds_is_skipped(committer: GroupCommitter) -> None:
    # What a sibling worker's commit looks like to a unit whose own check came too late: the
    # conflicting insert is skipped (ux_alerts_unresolved, ON CONFLICT DO NOTHING), not failed.
    [raised] = await reconcile(committer, finding())

    async def insert_again(uow: UnitOfWork) -> tuple[list[Alert], list[Alert]]:
        values = {
            "rule": rules.CONNECTOR_FAULTED,
            "severity": "critical",
            "state": "open",
            "message": "Faulted",
            "details": {"n": 1},
            "raised_at": T0,
            "last_seen_at": T0,
        }
        same = await alert_repo.insert_unless_unresolved(
            uow.session, [{**values, "target": "CS-1/1/1"}]
        )
        other = await alert_repo.insert_unless_unresolved(
            uow.session, [{**values, "target": "CS-1/1/1"}, {**values, "target": "CS-1/9/1"}]
        )
        return same, other

    same, other = await committer.run(insert_again)
    assert same == []
    assert [(a.target, a.details) for a in other] == [("CS-1/9/1", {"n": 1})]
    assert [(a.id, a.target) for a in await rows(committer, Alert)] == [
        (raised.alert["id"], "CS-1/1/1"),
        (other[0].id, "CS-1/9/1"),
    ]


@pytest.mark.postgres
async def test_two_evaluators_at_once_raise_one_alert(
    committer: GroupCommitter, engine: AsyncEngine
) -> None:
    # Two workers (or nodes) reconcile the same finding in transactions that overlap: both
    # plans say "raise", both re-checks see nothing committed. The second insert waits for the
    # first transaction, then finds the alert and raises nothing.
    sessions = session_factory(engine)
    async with sessions() as first, sessions() as second:
        raised = await service.reconcile(UnitOfWork(first), [finding()], now=T0)
        racing = asyncio.create_task(service.reconcile(UnitOfWork(second), [finding()], now=T0))
        await asyncio.sleep(0.3)
        assert not racing.done()  # held by the first transaction's uncommitted row
        await first.commit()
        assert await racing == []
        await second.commit()
    assert [c.event for c in raised] == ["alert.raised"]
    assert len(await rows(committer, Alert)) == 1


async def test_acknowledge(committer: GroupCommitter) -> None:
    [raised] = await reconcile(committer, finding())
    alert_id = raised.alert["id"]

    async def ack(uow: UnitOfWork) -> str:
        row = await service.acknowledge(uow, alert_id, operator="ops@example.test", at=T0)
        return row.state

    assert await committer.run(ack) == "acknowledged"
    assert await committer.run(ack) == "acknowledged"  # idempotent
    # Acknowledged is still unresolved: no second alert, and it resolves when the fault clears.
    assert await reconcile(committer, finding()) == []
    [resolved] = await reconcile(committer)
    assert resolved.alert["acknowledged_by"] == "ops@example.test"
    with pytest.raises(Conflict):
        await committer.run(ack)

    async def missing(uow: UnitOfWork) -> None:
        await service.acknowledge(uow, 999, operator="x", at=T0)

    with pytest.raises(NotFound):
        await committer.run(missing)


async def test_rule_updates_are_checked_and_merged(committer: GroupCommitter) -> None:
    async def update(uow: UnitOfWork) -> rules.RuleSettings:
        await service.update_rule(
            uow.session, rules.BOOT_LOOP, enabled=None, params={"boots": 3}, at=T0
        )
        return await service.update_rule(
            uow.session, rules.BOOT_LOOP, enabled=False, params={"minutes": 10}, at=T0
        )

    config = await committer.run(update)
    assert config == rules.RuleSettings(rules.BOOT_LOOP, False, {"boots": 3, "minutes": 10})
    settings = await committer.read(lambda uow: service.rule_settings(uow.session))
    assert settings[rules.BOOT_LOOP] == config
    assert settings[rules.STATION_OFFLINE].params == {"minutes": 10}

    async def bad(uow: UnitOfWork) -> None:
        await service.update_rule(
            uow.session, rules.BOOT_LOOP, enabled=None, params={"boots": -1}, at=T0
        )

    with pytest.raises(Invalid):
        await committer.run(bad)

    async def unknown(uow: UnitOfWork) -> None:
        await service.update_rule(uow.session, "nope", enabled=True, params=None, at=T0)

    with pytest.raises(NotFound):
        await committer.run(unknown)


async def test_evaluator_reads_what_the_handlers_stored(committer: GroupCommitter) -> None:
    await add_station(committer, "CS-1")

    async def connect(uow: UnitOfWork) -> None:
        await stations.mark_connected(
            uow.session, station_id="CS-1", ocpp_version="1.6", node="n", security_profile=1, at=T0
        )

    await committer.run(connect)
    await handle(
        committer, V16, "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}
    )
    await handle(
        committer,
        V16,
        "StatusNotification",
        {"connectorId": 2, "status": "Faulted", "errorCode": "HighTemperature"},
    )
    clock = FixedClock(T0 + timedelta(seconds=5))
    counts: list[dict[tuple[str, str], int]] = []
    evaluator = AlertEvaluator(
        committer, clock, interval_s=60, heartbeat_interval_s=300, on_counts=counts.append
    )
    [change] = await evaluator.evaluate()
    assert change.alert["target"] == "CS-1/2/1"  # 1.6 connector 2 is EVSE 2, connector 1
    assert change.alert["details"]["error_code"] == "HighTemperature"
    assert counts[-1] == {(rules.CONNECTOR_FAULTED, "open"): 1}

    await handle(
        committer,
        V16,
        "StatusNotification",
        {"connectorId": 2, "status": "Available", "errorCode": "NoError"},
        received_at=T0 + timedelta(seconds=6),
    )
    [change] = await evaluator.evaluate()
    assert change.event == "alert.resolved"
    assert counts[-1] == {}


def test_rest_after_keeps_evaluations_to_their_share() -> None:
    assert rest_after(0.2, 0.1, 60) == pytest.approx(1.8)  # 0.2 s of every 2 s
    assert rest_after(0.2, 1.0, 60) == 0.0 and rest_after(0.2, 0.0, 60) == 0.0  # no cap
    # never past the periodic interval: a slow evaluation on a loaded box must not hold an
    # event's evaluation back longer than the schedule would
    assert rest_after(0.5, 0.1, 0.2) == 0.2


async def test_a_burst_of_events_waits_for_a_slow_evaluation_share(
    committer: GroupCommitter,
) -> None:
    """Events bring an evaluation forward, but never sooner than the last one's cost allows
    (a storm's events must not run network-wide evaluations back to back: T7)."""
    started: list[float] = []

    class Slow(AlertEvaluator):
        async def evaluate(self) -> list[AlertChanged]:
            started.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.1)  # stands for a 10 000-station evaluation
            return []

    evaluator = Slow(committer, FixedClock(T0), interval_s=60, heartbeat_interval_s=300, share=0.1)
    await evaluator.start()
    try:
        wake = StationBooted(station_id="CS-1", status="Accepted", at=T0)
        await evaluator.on_event(wake)
        while len(started) < 1:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # the first evaluation is over
        await evaluator.on_event(wake)
        while len(started) < 2:
            await asyncio.sleep(0.01)
    finally:
        await evaluator.stop()
    # 0.1 s of evaluation at a 10 % share: the next starts ≥ 0.9 s after the first ended
    # (the plain debounce alone would have been 0.5 s).
    assert started[1] - started[0] >= 0.1 + 0.9 - 0.02
