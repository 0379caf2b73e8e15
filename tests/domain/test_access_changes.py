"""Every change to tokens, drivers, groups, members and rules is audited and emits AccessChanged."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from joule.domain.access.scope import ROOT
from joule.domain.authorization import modes
from joule.domain.driver import service as drivers
from joule.domain.driver import tokens
from joule.domain.driver.tokens import TokenChanges, TokenSpec
from joule.domain.events import AccessChanged
from joule.domain.group import access_rules
from joule.domain.group import service as groups
from joule.domain.group.access_rules import RuleSpec
from joule.domain.group.service import GroupSpec
from joule.storage.committer import GroupCommitter
from joule.storage.models import AuditEntry, Organisation, Site
from joule.storage.uow import UnitOfWork

AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


async def test_changes_are_audited_and_announced(committer: GroupCommitter) -> None:
    async def setup(uow: UnitOfWork) -> None:
        uow.session.add(Organisation(id="acme", name="Acme", created_at=AT))
        await uow.session.flush()
        uow.session.add(Site(id="office", name="Office", organisation_id="acme", created_at=AT))

    await committer.run(setup)

    async def change(uow: UnitOfWork) -> list[object]:
        driver = await drivers.create_driver(
            uow, ROOT, name="Ada", email=None, organisation_id="acme", status="Active", at=AT
        )
        await tokens.create_token(uow, ROOT, TokenSpec(uid="T-1", driver_id=driver.id), at=AT)
        await tokens.update_token(uow, ROOT, "T-1", TokenChanges(status="Blocked"), at=AT)
        await groups.create_group(
            uow, ROOT, GroupSpec(id="g", name="G", organisation_id="acme"), at=AT
        )
        await groups.add_driver(uow, ROOT, "g", driver.id, at=AT)
        rule = await access_rules.add_rule(uow, ROOT, "g", RuleSpec(site_id="office"), at=AT)
        await access_rules.delete_rule(uow, ROOT, "g", rule.id, at=AT)
        await modes.set_site_mode(uow, ROOT, "office", "private", at=AT)
        return list(uow.events)

    events = await committer.run(change)
    changed = [e for e in events if isinstance(e, AccessChanged)]
    assert len(changed) == 8
    # The token has no organisation of its own: its driver's is announced.
    assert {e.organisation_id for e in changed} == {"acme"}

    async def audit(uow: UnitOfWork) -> list[str]:
        rows = await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        return list(rows)

    assert await committer.read(audit) == [
        "driver.create",
        "token.create",
        "token.status",
        "group.create",
        "group.member.add",
        "group.rule.add",
        "group.rule.delete",
        "site.access_mode",
    ]
