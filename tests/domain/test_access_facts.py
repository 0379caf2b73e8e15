"""Access decisions on the real database: Authorize / starts load the facts, eligibility lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from tests.domain.helpers import V16, V201, handle

from joule.domain.authorization import handlers as _authorization_handlers  # noqa: F401
from joule.domain.authorization.eligibility import local_list_entries
from joule.domain.authorization.service import authorize
from joule.storage.committer import GroupCommitter
from joule.storage.models import (
    AccessGroup,
    AccessRule,
    Driver,
    GroupDriver,
    IdToken,
    Organisation,
    Site,
    Station,
    Transaction,
)
from joule.storage.uow import UnitOfWork

# Tuesday 2026-03-03, 10:00 in Berlin.
WORKDAY = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)


async def _world(committer: GroupCommitter) -> None:
    """Two networks: acme (hq office site, private) and rival (depot site, public)."""

    async def work(uow: UnitOfWork) -> None:
        s = uow.session
        s.add_all(
            [
                Organisation(id="acme", name="Acme", parent_id=None, created_at=WORKDAY),
                Organisation(id="acme-hq", name="Acme HQ", parent_id="acme", created_at=WORKDAY),
                Organisation(id="rival", name="Rival", parent_id=None, created_at=WORKDAY),
            ]
        )
        await s.flush()
        s.add_all(
            [
                Site(
                    id="office",
                    name="Office",
                    timezone="Europe/Berlin",
                    organisation_id="acme-hq",
                    access_mode="private",
                    created_at=WORKDAY,
                ),
                Site(
                    id="depot",
                    name="Depot",
                    timezone="Europe/Berlin",
                    organisation_id="rival",
                    access_mode="public",
                    created_at=WORKDAY,
                ),
            ]
        )
        await s.flush()
        for station_id, site in (("CS-OFFICE", "office"), ("CS-DEPOT", "depot")):
            s.add(
                Station(
                    id=station_id,
                    site_id=site,
                    registration="accepted",
                    security_profile=1,
                    min_security_profile=0,
                    online=False,
                    quirks={},
                    created_at=WORKDAY,
                )
            )
        driver = Driver(
            organisation_id="acme-hq",
            name="Ada",
            email="ada@acme.test",
            status="Active",
            failed_logins=0,
            created_at=WORKDAY,
        )
        s.add(driver)
        await s.flush()
        employee = IdToken(
            uid="EMP-1",
            type="ISO14443",
            status="Accepted",
            max_concurrent=1,
            driver_id=driver.id,
            created_at=WORKDAY,
        )
        family = IdToken(
            uid="FAM-2",
            type="ISO14443",
            status="Accepted",
            max_concurrent=1,
            group_id="FAMILY",
            organisation_id="acme",
            created_at=WORKDAY,
        )
        blocked = IdToken(
            uid="BLK-3",
            type="ISO14443",
            status="Blocked",
            max_concurrent=1,
            driver_id=driver.id,
            created_at=WORKDAY,
        )
        stranger = IdToken(
            uid="RIV-4",
            type="ISO14443",
            status="Accepted",
            max_concurrent=1,
            organisation_id="rival",
            created_at=WORKDAY,
        )
        s.add_all([employee, family, blocked, stranger])
        await s.flush()
        s.add_all(
            [
                AccessGroup(
                    id="employees",
                    organisation_id="acme-hq",
                    name="Employees",
                    kind="employees",
                    id_token_group="FAMILY",
                    monthly_energy_budget_wh=Decimal(10000),
                    created_at=WORKDAY,
                ),
            ]
        )
        await s.flush()
        s.add_all(
            [
                GroupDriver(group_id="employees", driver_id=driver.id),
                AccessRule(
                    group_id="employees",
                    site_id="office",
                    days=[1, 2, 3, 4, 5],
                    start_time="07:00",
                    end_time="19:00",
                    created_at=WORKDAY,
                ),
            ]
        )

    await committer.run(work)


async def _authorize(
    committer: GroupCommitter, uid: str, station_id: str, now: datetime, start: bool = False
) -> tuple[str, str]:
    async def work(uow: UnitOfWork) -> tuple[str, str]:
        d = await authorize(
            uow.session,
            id_token=uid,
            now=now,
            for_start=start,
            exclude_tx=None,
            station_id=station_id,
            evse_id=1,
        )
        return d.status, d.reason

    return await committer.run(work)


async def test_employee_at_office_in_hours_and_refusals(committer: GroupCommitter) -> None:
    await _world(committer)
    assert (await _authorize(committer, "EMP-1", "CS-OFFICE", WORKDAY))[0] == "Accepted"
    assert (await _authorize(committer, "EMP-1", "CS-OFFICE", NIGHT))[0] == "NotAtThisTime"
    assert (await _authorize(committer, "EMP-1", "CS-DEPOT", WORKDAY)) == (
        "Invalid",
        "not valid on this network",
    )
    # The family token shares the group's rights through its group id (parentIdTag).
    assert (await _authorize(committer, "FAM-2", "CS-OFFICE", WORKDAY))[0] == "Accepted"
    assert (await _authorize(committer, "BLK-3", "CS-OFFICE", WORKDAY))[0] == "Blocked"
    assert (await _authorize(committer, "RIV-4", "CS-DEPOT", WORKDAY))[0] == "Accepted"
    assert (await _authorize(committer, "RIV-4", "CS-OFFICE", WORKDAY))[0] == "Invalid"


async def test_handlers_map_statuses_per_version(committer: GroupCommitter) -> None:
    await _world(committer)
    night16 = await handle(
        committer, V16, "Authorize", {"idTag": "EMP-1"}, station_id="CS-OFFICE", received_at=NIGHT
    )
    assert night16.response["idTagInfo"]["status"] == "Invalid"
    night201 = await handle(
        committer,
        V201,
        "Authorize",
        {"idToken": {"idToken": "EMP-1", "type": "ISO14443"}},
        station_id="CS-OFFICE",
        received_at=NIGHT,
    )
    assert night201.response["idTokenInfo"]["status"] == "NotAtThisTime"
    day201 = await handle(
        committer,
        V201,
        "Authorize",
        {"idToken": {"idToken": "EMP-1", "type": "ISO14443"}},
        station_id="CS-OFFICE",
        received_at=WORKDAY,
    )
    assert day201.response["idTokenInfo"]["status"] == "Accepted"


async def test_monthly_budget_counts_the_drivers_energy(committer: GroupCommitter) -> None:
    await _world(committer)

    async def used(uow: UnitOfWork) -> None:
        uow.session.add(
            Transaction(
                transaction_uid="t-1",
                station_id="CS-OFFICE",
                evse_id=1,
                id_token="EMP-1",
                status="completed",
                started_at=WORKDAY - timedelta(days=1),
                meter_start_wh=Decimal(1000),
                meter_stop_wh=Decimal(11000),
                seq_nos={},
                created_at=WORKDAY,
                updated_at=WORKDAY,
            )
        )

    await committer.run(used)
    status, reason = await _authorize(committer, "EMP-1", "CS-OFFICE", WORKDAY, start=True)
    assert status == "NoCredit"
    assert "10000" in reason
    # Next month the budget is fresh.
    april = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
    assert (await _authorize(committer, "EMP-1", "CS-OFFICE", april, start=True))[0] == "Accepted"


async def test_local_list_entries(committer: GroupCommitter) -> None:
    await _world(committer)

    async def entries(station_id: str) -> dict[str, str]:
        async def work(uow: UnitOfWork) -> dict[str, str]:
            found = await local_list_entries(uow.session, station_id, WORKDAY)
            return {e.uid: e.status for e in found}

        return await committer.read(work)

    # Private office: the group's members (driver's tokens, the family group id), blocked listed.
    assert await entries("CS-OFFICE") == {
        "EMP-1": "Accepted",
        "FAM-2": "Accepted",
        "BLK-3": "Blocked",
    }
    # Public depot of rival: rival's tokens only (acme's are another network's).
    assert await entries("CS-DEPOT") == {"RIV-4": "Accepted"}
    assert await entries("CS-UNKNOWN") == {}


async def test_local_list_mixed_station_and_refused_members(committer: GroupCommitter) -> None:
    await _world(committer)

    async def change(uow: UnitOfWork) -> None:
        s = uow.session
        site = await s.get(Site, "office")
        assert site is not None
        site.access_mode = "mixed"
        ada = await s.scalar(select(Driver).where(Driver.name == "Ada"))
        assert ada is not None
        ada.status = "Blocked"
        family = await s.scalar(select(IdToken).where(IdToken.uid == "FAM-2"))
        assert family is not None
        family.expiry = WORKDAY - timedelta(days=1)

    await committer.run(change)

    async def entries(uow: UnitOfWork) -> dict[str, str]:
        found = await local_list_entries(uow.session, "CS-OFFICE", WORKDAY)
        return {e.uid: e.status for e in found}

    # Mixed: every token of the network (public hours), the driver's cards Blocked, FAM-2 Expired;
    # the rival's token is another network's and stays out.
    assert await committer.read(entries) == {
        "EMP-1": "Blocked",
        "BLK-3": "Blocked",
        "FAM-2": "Expired",
    }
