"""Energy per local day (issue 4) on a real database: zones, midnight, scope, active sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from joule.domain.access.scope import ROOT, Scope
from joule.domain.reporting.energy import bucket, energy_per_day
from joule.kit.errors import Invalid
from joule.storage.committer import GroupCommitter
from joule.storage.models import Organisation, Site, Station, Transaction
from joule.storage.uow import UnitOfWork

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # 29 Nov 09:00 in Auckland, 28 Nov 21:00 in Berlin


async def world(committer: GroupCommitter) -> None:
    """Berlin (cpo-a), Auckland (cpo-b) and a station without a site (UTC, cpo-a)."""

    async def work(uow: UnitOfWork) -> None:
        s = uow.session
        for org in ("cpo-a", "cpo-b"):
            s.add(Organisation(id=org, name=org, created_at=NOW))
        await s.flush()
        s.add(
            Site(
                id="ber",
                name="Berlin",
                timezone="Europe/Berlin",
                organisation_id="cpo-a",
                created_at=NOW,
            )
        )
        s.add(
            Site(
                id="akl",
                name="Auckland",
                timezone="Pacific/Auckland",
                organisation_id="cpo-b",
                created_at=NOW,
            )
        )
        await s.flush()
        s.add(Station(id="CP-BER", site_id="ber", created_at=NOW))
        s.add(Station(id="CP-AKL", site_id="akl", created_at=NOW))
        s.add(Station(id="CP-LOOSE", organisation_id="cpo-a", created_at=NOW))

    await committer.run(work)


async def session(
    committer: GroupCommitter,
    station: str,
    uid: str,
    started: datetime,
    *,
    start: str,
    stop: str | None = None,
    last: str | None = None,
) -> None:
    """A transaction row as the handlers leave it: completed with meter_stop, or active."""

    async def work(uow: UnitOfWork) -> None:
        uow.session.add(
            Transaction(
                transaction_uid=uid,
                station_id=station,
                status="completed" if stop is not None else "active",
                started_at=started,
                meter_start_wh=Decimal(start),
                meter_stop_wh=Decimal(stop) if stop is not None else None,
                last_meter_wh=Decimal(last if last is not None else (stop or start)),
                created_at=started,
                updated_at=started,
            )
        )

    await committer.run(work)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_days_are_the_sites_local_days_and_sessions_count_on_their_start_day(
    committer: GroupCommitter,
) -> None:
    await world(committer)
    # 27 Nov 23:30 UTC is 28 Nov 00:30 in Berlin: the 28th there, though the 27th in UTC.
    await session(committer, "CP-BER", "b1", at(27, 23, 30), start="1000", stop="13500.5")
    # 27 Nov 22:00 UTC → 27 Nov 23:00 Berlin; runs past midnight: counted whole on the 27th.
    await session(committer, "CP-BER", "b2", at(27, 22), start="0", stop="7000")
    # Still charging: its energy so far counts, today (28th, Berlin).
    await session(committer, "CP-BER", "b3", at(28, 19), start="500", last="2750.25")
    # Older than the window: left out.
    await session(committer, "CP-BER", "b0", at(20, 12), start="0", stop="99999")

    result = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=3, station_id="CP-BER")
    )
    assert result.timezone == "Europe/Berlin"
    assert [(d.day, d.wh, d.sessions) for d in result.days] == [
        (date(2026, 11, 26), Decimal(0), 0),
        (date(2026, 11, 27), Decimal("7000"), 1),
        (date(2026, 11, 28), Decimal("14750.75"), 2),
    ]
    assert result.total_wh == Decimal("21750.75")  # exact: Decimal, never float

    # The site gives the same figures; a station without a site counts in UTC.
    site = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=3, site_id="ber")
    )
    assert site.days == result.days
    await session(committer, "CP-LOOSE", "l1", at(27, 23, 30), start="0", stop="100")
    loose = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=2, station_id="CP-LOOSE")
    )
    assert loose.timezone == "UTC"
    assert [(d.day, d.wh) for d in loose.days] == [
        (date(2026, 11, 27), Decimal(100)),
        (date(2026, 11, 28), Decimal(0)),
    ]


async def test_the_network_spans_zones_and_stays_inside_the_scope(
    committer: GroupCommitter,
) -> None:
    await world(committer)
    # 28 Nov 12:00 UTC is 29 Nov 01:00 in Auckland: today there, tomorrow in Berlin.
    await session(committer, "CP-AKL", "a1", at(28, 12), start="0", stop="4000")
    await session(committer, "CP-BER", "b1", at(28, 10), start="0", stop="1000")
    await session(committer, "CP-LOOSE", "l1", at(27, 10), start="0", stop="10")

    everything = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=3, scope=ROOT)
    )
    assert everything.timezone == "mixed"
    # The window ends on Auckland's today (29th) so its session is not dropped.
    assert [(d.day, d.wh) for d in everything.days] == [
        (date(2026, 11, 27), Decimal(10)),
        (date(2026, 11, 28), Decimal(1000)),
        (date(2026, 11, 29), Decimal(4000)),
    ]

    cpo_a = Scope(organisation_ids=frozenset({"cpo-a"}), role="viewer", organisation_id="cpo-a")
    mine = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=3, scope=cpo_a)
    )
    # Berlin and UTC only: the window ends on Berlin's today, Auckland's energy is not there.
    assert [(d.day, d.wh) for d in mine.days] == [
        (date(2026, 11, 26), Decimal(0)),
        (date(2026, 11, 27), Decimal(10)),
        (date(2026, 11, 28), Decimal(1000)),
    ]
    # Another organisation's site asked through this scope yields nothing of theirs.
    theirs = await committer.read(
        lambda uow: energy_per_day(uow.session, now=NOW, days=3, site_id="akl", scope=cpo_a)
    )
    assert theirs.total_wh == 0


async def test_days_outside_the_bounds_are_refused(committer: GroupCommitter) -> None:
    for days in (0, 401):
        with pytest.raises(Invalid):
            await committer.read(lambda uow, n=days: energy_per_day(uow.session, now=NOW, days=n))


def test_sessions_without_readings_and_unknown_zones_still_count() -> None:
    # Pure bucketing: no readings yet → a session with 0 Wh; a zone this host lacks → UTC.
    result = bucket(
        [(at(28, 1), None, None), (at(28, 2), "Nowhere/Invalid", Decimal(5))],
        last_day=date(2026, 11, 28),
        days=1,
        zone_name="UTC",
    )
    assert [(d.wh, d.sessions) for d in result.days] == [(Decimal(5), 2)]
