"""The evaluator reads only the stations a rule could find something on (T5 at 10 000 stations),
and that narrowing never changes what the rules find; a large reconciliation is applied in parts.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.domain.helpers import T0

from joule.domain.alerting import rules, service
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.domain.alerting.rules import Finding, Snapshot, StationState, TransactionState
from joule.kit.clock import FixedClock
from joule.storage.committer import GroupCommitter
from joule.storage.models import Alert, BootRecord, Station, Transaction
from joule.storage.uow import UnitOfWork

NOW = T0 + timedelta(hours=60)
HEARTBEAT_S = 60
FIRMWARE = (None, "Installed", "Downloading", *sorted(rules.FIRMWARE_FAILURES))
DIAGNOSTICS = (None, "Uploaded", "Uploading", *sorted(rules.DIAGNOSTICS_FAILURES))


def _near(rng: random.Random, threshold: timedelta) -> timedelta:
    """An age around a rule's threshold, the threshold itself included."""
    choice = rng.random()
    if choice < 0.15:
        return threshold
    return threshold * rng.choice((0.2, 0.9, 0.999, 1.001, 1.5, 3))


async def _network(committer: GroupCommitter, seed: int) -> None:
    """Stations, boots and transactions in every state near every rule's threshold."""
    rng = random.Random(seed)

    async def work(uow: UnitOfWork) -> None:
        later: list[object] = []  # boots and transactions, after their stations exist
        for n in range(160):
            sid = f"CS-{seed}-{n:03d}"
            online = rng.random() < 0.5
            silent = _near(
                rng, timedelta(seconds=HEARTBEAT_S * 3) if online else timedelta(minutes=10)
            )
            uow.session.add(
                Station(
                    id=sid,
                    registration=rng.choice(("accepted",) * 5 + ("pending",)),
                    ocpp_version=rng.choice(("1.6", "2.0.1", "2.1", None)),
                    site_id=None,
                    security_profile=1,
                    min_security_profile=0,
                    online=online,
                    last_seen=None if rng.random() < 0.05 else NOW - silent,
                    status=rng.choice((None, "Available", "Faulted", "Unavailable")),
                    error_code=rng.choice((None, "NoError", "GroundFailure")),
                    firmware_status=rng.choice(FIRMWARE),
                    diagnostics_status=rng.choice(DIAGNOSTICS),
                    quirks={},
                    created_at=T0,
                )
            )
            for _ in range(rng.choice((0, 0, 1, 4, 5, 6))):
                at = NOW - _near(rng, timedelta(minutes=30))
                later.append(BootRecord(station_id=sid, at=at, status="Accepted", payload={}))
            if rng.random() < 0.5:
                started = NOW - _near(rng, timedelta(hours=48))
                metered = NOW - _near(rng, timedelta(minutes=30))
                later.append(
                    Transaction(
                        transaction_uid=f"tx-{sid}",
                        station_id=sid,
                        status=rng.choice(("active", "active", "completed")),
                        stale=rng.random() < 0.1,
                        started_at=started,
                        last_meter_at=None if rng.random() < 0.3 else max(metered, started),
                        created_at=T0,
                        updated_at=T0,
                    )
                )
        await uow.session.flush()
        uow.session.add_all(later)

    await committer.run(work)


async def _every_station(committer: GroupCommitter) -> Snapshot:
    """The reference: every known station and active transaction, unfiltered."""

    async def read(uow: UnitOfWork) -> Snapshot:
        session = uow.session
        boots: dict[str, list[Any]] = {}
        for sid, at in (await session.execute(select(BootRecord.station_id, BootRecord.at))).all():
            boots.setdefault(sid, []).append(service._utc(at))
        query = select(Station).where(
            Station.registration == "accepted", Station.ocpp_version.is_not(None)
        )
        stations = tuple(
            StationState(
                station_id=s.id,
                site_id=s.site_id,
                online=s.online,
                last_seen=service._utc(s.last_seen) if s.last_seen else None,
                firmware_status=s.firmware_status,
                diagnostics_status=s.diagnostics_status,
                status=s.status,
                error_code=s.error_code,
                boots=tuple(boots.get(s.id, ())),
            )
            for s in (await session.scalars(query)).all()
        )
        active = (
            select(Transaction, Station.site_id)
            .join(Station, Station.id == Transaction.station_id)
            .where(Transaction.status == "active", Transaction.stale.is_(False))
        )
        transactions = tuple(
            TransactionState(
                transaction_pk=t.id,
                station_id=t.station_id,
                site_id=site,
                started_at=service._utc(t.started_at) if t.started_at else None,
                last_meter_at=service._utc(t.last_meter_at) if t.last_meter_at else None,
            )
            for t, site in (await session.execute(active)).all()
        )
        return Snapshot(stations=stations, transactions=transactions)

    return await committer.read(read)


def _shown(found: list[Finding]) -> list[tuple[Any, ...]]:
    return sorted(
        (f.key, f.station_id, f.site_id, f.message, sorted(f.details.items())) for f in found
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_candidates_find_what_every_station_finds(
    committer: GroupCommitter, seed: int
) -> None:
    await _network(committer, seed)
    settings = await committer.read(lambda uow: service.rule_settings(uow.session))
    # The uptime, faulted-connector and security rules read their own inputs (not filtered here).
    for name in (rules.UPTIME_BELOW, rules.SECURITY_EVENT):
        settings[name] = rules.settings_for(name, enabled=False)

    async def read(uow: UnitOfWork) -> Snapshot:
        return await service.load_snapshot(
            uow.session, settings, now=NOW, heartbeat_interval_s=HEARTBEAT_S
        )

    narrowed = await committer.read(read)
    whole = await _every_station(committer)
    expected = rules.evaluate(whole, settings, now=NOW, heartbeat_interval_s=HEARTBEAT_S)
    found = await service.findings_of(narrowed, settings, now=NOW, heartbeat_interval_s=HEARTBEAT_S)
    assert _shown(found) == _shown(expected)
    assert {f.rule for f in expected} >= {
        rules.STATION_OFFLINE,
        rules.HEARTBEAT_MISSED,
        rules.BOOT_LOOP,
        rules.CONNECTOR_FAULTED,
        rules.FIRMWARE_FAILED,
        rules.DIAGNOSTICS_FAILED,
        rules.TRANSACTION_NO_METER_VALUES,
        rules.TRANSACTION_TOO_LONG,
    }
    # …and it is a narrowing: stations with nothing to find were not read.
    assert len(narrowed.stations) < len(whole.stations)
    assert len(narrowed.transactions) < len(whole.transactions)


async def _connected_once(
    committer: GroupCommitter, ids: list[str], *, online: object, last_seen: object, **extra: Any
) -> None:
    """Known stations (accepted, connected at least once), online as `online(n)` says."""

    async def work(uow: UnitOfWork) -> None:
        for n, station_id in enumerate(ids):
            uow.session.add(
                Station(
                    id=station_id,
                    registration="accepted",
                    ocpp_version="1.6",
                    security_profile=1,
                    min_security_profile=0,
                    online=online(n) if callable(online) else online,
                    last_seen=last_seen,
                    quirks={},
                    created_at=T0,
                    **extra,
                )
            )

    await committer.run(work)


async def test_a_healthy_network_reads_no_station(committer: GroupCommitter) -> None:
    await _connected_once(
        committer,
        [f"OK-{n}" for n in range(50)],
        online=lambda n: n % 2 == 0,
        last_seen=NOW - timedelta(seconds=30),
        status="Available",
    )
    settings = await committer.read(lambda uow: service.rule_settings(uow.session))

    async def read(uow: UnitOfWork) -> Snapshot:
        return await service.load_snapshot(
            uow.session, settings, now=NOW, heartbeat_interval_s=HEARTBEAT_S
        )

    assert (await committer.read(read)).stations == ()


def test_messages_do_not_change_while_a_condition_holds() -> None:
    """An open alert is not re-worded every evaluation (thousands of them in an outage)."""
    settings = {name: rules.settings_for(name) for name in rules.RULES}
    seen = NOW - timedelta(minutes=30)
    snap = Snapshot(
        stations=(
            StationState("A", None, online=False, last_seen=seen),
            StationState("B", None, online=True, last_seen=seen),
        ),
        transactions=(TransactionState(7, "A", None, NOW - timedelta(days=3), seen),),
    )

    def messages(at_minutes: int) -> list[tuple[Any, ...]]:
        at = NOW + timedelta(minutes=at_minutes)
        return _shown(rules.evaluate(snap, settings, now=at, heartbeat_interval_s=HEARTBEAT_S))

    assert len(messages(0)) == 4
    assert messages(0) == messages(17) == messages(60 * 5)
    assert "A offline since 2026-11-30 23:30 UTC (over 10 min)" in {m[3] for m in messages(0)}


async def test_a_large_reconciliation_commits_in_parts(
    committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raising (and resolving) hundreds of alerts is many small units, each with its events."""
    monkeypatch.setattr("joule.domain.alerting.evaluator.CHANGES_PER_UNIT", 7)
    ids = [f"OFF-{n:02d}" for n in range(30)]
    await _connected_once(committer, ids, online=False, last_seen=NOW - timedelta(minutes=20))
    clock = FixedClock(NOW)
    evaluator = AlertEvaluator(committer, clock, interval_s=60, heartbeat_interval_s=HEARTBEAT_S)
    commits = committer.commits
    raised = await evaluator.evaluate()
    assert [c.event for c in raised] == ["alert.raised"] * 30
    assert committer.commits - commits == 5  # 30 changes, 7 per unit
    assert len({c.alert["id"] for c in raised}) == 30

    # Seconds later: nothing to change, and no transaction for it.
    clock.set(NOW + timedelta(seconds=15))
    commits = committer.commits
    assert await evaluator.evaluate() == []
    assert committer.commits == commits
    # Still offline a minute later: nothing raised again, nothing re-worded, seen refreshed.
    clock.set(NOW + timedelta(minutes=1))
    assert await evaluator.evaluate() == []
    alerts = await committer.read(lambda uow: _alerts(uow))
    assert {a.last_seen_at.replace(tzinfo=None) for a in alerts} == {
        (NOW + timedelta(minutes=1)).replace(tzinfo=None)
    }

    async def back(uow: UnitOfWork) -> None:
        for row in (await uow.session.scalars(select(Station))).all():
            row.online = True
            row.last_seen = NOW + timedelta(minutes=2)

    await committer.run(back)
    clock.set(NOW + timedelta(minutes=2))
    resolved = await evaluator.evaluate()
    assert [c.event for c in resolved] == ["alert.resolved"] * 30


async def _alerts(uow: UnitOfWork) -> list[Alert]:
    return list((await uow.session.scalars(select(Alert).order_by(Alert.id))).all())


async def test_last_seen_moves_at_most_once_a_minute(committer: GroupCommitter) -> None:
    finding = Finding(rules.CONNECTOR_FAULTED, "CS-1/1/1", "CS-1", None, "critical", "Faulted")

    async def reconcile(seconds: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            await service.reconcile(uow, [finding], now=T0 + timedelta(seconds=seconds))

        await committer.run(work)

    async def seen() -> object:
        [alert] = await committer.read(lambda uow: _alerts(uow))
        return alert.last_seen_at.replace(tzinfo=None)

    await reconcile(0)
    await reconcile(15)
    assert await seen() == T0.replace(tzinfo=None)
    await reconcile(60)
    assert await seen() == (T0 + timedelta(seconds=60)).replace(tzinfo=None)


async def test_a_stale_plan_neither_raises_twice_nor_resolves_twice(
    committer: GroupCommitter,
) -> None:
    """Plans are made from a read; another node's evaluator may have applied one since."""
    finding = Finding(rules.CONNECTOR_FAULTED, "CS-1/1/1", "CS-1", None, "critical", "Faulted")
    empty = await committer.read(lambda uow: service.known_alerts(uow.session))
    plan = await service.plan_reconcile(empty, [finding], now=T0)

    async def apply(uow: UnitOfWork, plan: service.AlertPlan = plan) -> list[str]:
        return [c.event for c in await service.apply_plan(uow, plan, now=T0)]

    assert await committer.run(apply) == ["alert.raised"]
    assert await committer.run(apply) == []  # the same plan again: already raised
    known = await committer.read(lambda uow: service.known_alerts(uow.session))
    resolve = await service.plan_reconcile(known, [], now=T0)

    async def apply_resolve(uow: UnitOfWork) -> list[str]:
        return [c.event for c in await service.apply_plan(uow, resolve, now=T0)]

    assert await committer.run(apply_resolve) == ["alert.resolved"]
    assert await committer.run(apply_resolve) == []
    assert [a.state for a in await committer.read(lambda uow: _alerts(uow))] == ["resolved"]
