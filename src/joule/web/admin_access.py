"""Access control pages of the dashboard (issue 5): drivers with their tokens, groups with their
members and time-window rules, and the access mode of sites and stations.

Everything goes through the domain services with the operator's scope, so the pages see and touch
exactly what the API would (other organisations' objects are 404). Viewers see the lists without
the forms, and a change they post anyway is refused with 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.deps import ApiServices, Database, Db, Services
from joule.api.errors import status_of
from joule.domain import audit
from joule.domain.access.scope import Scope, station_role
from joule.domain.authorization import modes
from joule.domain.authorization.rules import ACCESS_MODES
from joule.domain.driver import service as drivers
from joule.domain.driver import tokens
from joule.domain.driver_portal import service as portal
from joule.domain.group import access_rules as rules
from joule.domain.group import service as groups
from joule.domain.operator import service as operators
from joule.domain.operator.rules import may_change
from joule.domain.registry import sites, stations
from joule.domain.registry.rules import TokenStatus, TokenType
from joule.kit.errors import Invalid, JouleError
from joule.storage.models import AccessGroup, AccessRule, Driver, Site, Station
from joule.storage.uow import UnitOfWork
from joule.web.auth import CSRF_FIELD, Session, WebSession
from joule.web.render import page

router = APIRouter(include_in_schema=False)

T = TypeVar("T")
BASE = "/ui/access"
LIST_ROWS = 200
TOKEN_TYPES = tuple(t.value for t in TokenType)
TOKEN_STATUSES = tuple(s.value for s in TokenStatus)


class Refused(JouleError):
    """A viewer posted a change (the pages offer them no form): 403."""


async def scope_of(db: Database, session: WebSession) -> Scope:
    """The operator's scope, read per request like the API does (role or grants may change)."""
    operator = session.operator
    return await db.read(lambda s: operators.operator_scope(s, operator))


def may_edit(scope: Scope) -> bool:
    """Admins and operators change access data; viewers only look."""
    return may_change(scope.role)


class Form(dict[str, str]):
    """A posted form: single text fields trimmed, and every value of repeated fields."""

    def __init__(self, fields: Mapping[str, str], lists: Mapping[str, list[str]]) -> None:
        super().__init__(fields)
        self.lists = lists

    def every(self, name: str) -> list[str]:
        """All values of a repeated field (checkboxes)."""
        return self.lists.get(name, [])


async def posted(request: Request, session: WebSession) -> Form:
    """The form of a state-changing request, CSRF-checked."""
    form = await request.form()
    session.check_csrf(request, str(form.get(CSRF_FIELD, "")))
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return Form(fields, lists)


async def change(
    services: ApiServices, scope: Scope, work: Callable[[UnitOfWork], Awaitable[T]]
) -> T:
    """Run a change as one unit of work (audit and AccessChanged commit with it)."""
    if not may_edit(scope):
        raise Refused(f"role {scope.role} may only read")
    return await services.committer.run(work)


def text_or_none(form: Mapping[str, str], name: str) -> str | None:
    """A form field, None when left empty."""
    return form.get(name) or None


def error_status(error: JouleError) -> int:
    """The status a refused form answers with (the API's table; 403 for a viewer)."""
    return 403 if isinstance(error, Refused) else status_of(error)


# --- drivers ----------------------------------------------------------------------------------


async def _drivers_page(
    request: Request,
    session: WebSession,
    scope: Scope,
    db: Database,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: Mapping[str, str] | None = None,
) -> Response:
    async def load(s: AsyncSession) -> tuple[list[Any], int]:
        found, total = await drivers.list_drivers(s, scope, limit=LIST_ROWS, offset=0)
        rows = [(d, await drivers.driver_tokens(s, scope, d.id)) for d in found]
        return rows, total

    rows, total = await db.read(load)
    return page(
        request,
        "admin_drivers.html",
        status_code=status_code,
        session=session,
        rows=rows,
        total=total,
        editable=may_edit(scope),
        token_types=TOKEN_TYPES,
        token_statuses=TOKEN_STATUSES,
        error=error,
        form=form or {},
    )


@router.get(f"{BASE}/drivers")
async def drivers_page(request: Request, session: Session, db: Db) -> Response:
    """Drivers with their tokens; a form to add a driver with a first token."""
    scope = await scope_of(db, session)
    return await _drivers_page(request, session, scope, db)


@router.post(f"{BASE}/drivers")
async def create_driver(request: Request, session: Session, services: Services, db: Db) -> Response:
    """Create a driver, their first token and (optionally) their portal password, all or nothing."""
    form = await posted(request, session)
    scope = await scope_of(db, session)
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        driver = await drivers.create_driver(
            uow,
            scope,
            name=form.get("name", ""),
            email=text_or_none(form, "email"),
            organisation_id=None,  # the operator's own organisation (network-wide for root)
            status="Active",
            at=at,
        )
        uid = form.get("uid", "")
        if uid:
            spec = tokens.TokenSpec(
                uid=uid,
                type=form.get("type") or TokenType.ISO14443,
                status=form.get("status") or TokenStatus.ACCEPTED,
                group_id=text_or_none(form, "group_id"),
                organisation_id=driver.organisation_id,
                driver_id=driver.id,
            )
            await tokens.create_token(uow, scope, spec, at=at)
        password = form.get("password", "")
        if password:
            if driver.email is None:
                raise Invalid("a driver needs an e-mail address to log in to the portal")
            await portal.set_password(uow.session, driver.id, password, now=at)

    try:
        await change(services, scope, work)
    except JouleError as error:
        kept = {k: v for k, v in form.items() if k not in ("password", CSRF_FIELD)}
        return await _drivers_page(
            request,
            session,
            scope,
            db,
            error=str(error),
            status_code=error_status(error),
            form=kept,
        )
    return RedirectResponse(f"{BASE}/drivers", status_code=303)


@router.post(BASE + "/drivers/{driver_id}/password")
async def set_portal_password(
    driver_id: int, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Give a driver of the operator's scope a (new) portal password; audited without it."""
    form = await posted(request, session)
    scope = await scope_of(db, session)
    at = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        driver = await drivers.get_driver(uow.session, scope, driver_id)  # 404 outside the scope
        if driver.email is None:
            raise Invalid("a driver needs an e-mail address to log in to the portal")
        await portal.set_password(uow.session, driver.id, form.get("password", ""), now=at)
        audit.record(
            uow.session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=driver.organisation_id,
            action="driver.password",
            object_type="driver",
            object_id=driver.id,
            changes={"password": "set"},  # redacted by audit.record whatever it says
            at=at,
        )

    try:
        await change(services, scope, work)
    except JouleError as error:
        return await _drivers_page(
            request, session, scope, db, error=str(error), status_code=error_status(error)
        )
    return RedirectResponse(f"{BASE}/drivers", status_code=303)


# --- groups, members, rules -------------------------------------------------------------------

# ISO 8601 weekdays, as access rules store them (1 = Monday … 7 = Sunday).
ISO_DAY_NAMES = tuple(
    zip("1234567", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
)


@dataclass(frozen=True, slots=True)
class GroupView:
    """One group on the page: its members and rules."""

    group: AccessGroup
    members: groups.Members
    rules: list[AccessRule]


async def _visible_sites(s: AsyncSession, scope: Scope) -> list[Site]:
    found, _ = await sites.list_sites(s, limit=LIST_ROWS, offset=0)
    return [x for x in found if scope.role_at(organisation_id=x.organisation_id, site_id=x.id)]


async def _groups_page(
    request: Request,
    session: WebSession,
    scope: Scope,
    db: Database,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async def load(s: AsyncSession) -> tuple[list[GroupView], int, list[Driver], list[Site]]:
        found, total = await groups.list_groups(s, scope, limit=LIST_ROWS, offset=0)
        views = [
            GroupView(
                g, await groups.members(s, scope, g.id), await rules.list_rules(s, scope, g.id)
            )
            for g in found
        ]
        people, _ = await drivers.list_drivers(s, scope, limit=LIST_ROWS, offset=0)
        return views, total, people, await _visible_sites(s, scope)

    views, total, people, places = await db.read(load)
    return page(
        request,
        "admin_groups.html",
        status_code=status_code,
        session=session,
        views=views,
        total=total,
        drivers=people,
        sites=places,
        kinds=groups.GROUP_KINDS,
        days=ISO_DAY_NAMES,
        editable=may_edit(scope),
        error=error,
    )


@router.get(f"{BASE}/groups")
async def groups_page(request: Request, session: Session, db: Db) -> Response:
    """Groups with their members and time-window rules, and the forms to change them."""
    scope = await scope_of(db, session)
    return await _groups_page(request, session, scope, db)


async def _group_change(
    request: Request,
    session: WebSession,
    services: ApiServices,
    db: Database,
    work: Callable[[Scope, Form, datetime], Callable[[UnitOfWork], Awaitable[object]]],
) -> Response:
    """Check the form, run the change, then back to the list (or the list with the error)."""
    form = await posted(request, session)
    scope = await scope_of(db, session)
    try:
        if not may_edit(scope):  # before the form is read: a viewer learns nothing from it
            raise Refused(f"role {scope.role} may only read")
        await change(services, scope, work(scope, form, services.clock.now()))
    except JouleError as error:
        return await _groups_page(
            request, session, scope, db, error=str(error), status_code=error_status(error)
        )
    return RedirectResponse(f"{BASE}/groups", status_code=303)


@router.post(f"{BASE}/groups")
async def create_group(request: Request, session: Session, services: Services, db: Db) -> Response:
    """Create a group in the operator's organisation."""

    def work(scope: Scope, form: Form, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        spec = groups.GroupSpec(
            name=form.get("name", ""),
            kind=form.get("kind") or "custom",
            id=text_or_none(form, "id"),
            id_token_group=text_or_none(form, "id_token_group"),
        )
        return lambda uow: groups.create_group(uow, scope, spec, at=at)

    return await _group_change(request, session, services, db, work)


@router.post(BASE + "/groups/{group_id}/members")
async def add_member(
    group_id: str, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Add a driver (all their tokens) or a single token to a group."""

    def work(scope: Scope, form: Form, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        driver, uid = form.get("driver_id", ""), form.get("uid", "")
        if (driver and uid) or not (driver or uid):
            raise Invalid("choose a driver or enter a token uid (one of them)")
        if driver:
            if not driver.isdigit():
                raise Invalid(f"driver {driver!r} is not a driver id")
            return lambda uow: groups.add_driver(uow, scope, group_id, int(driver), at=at)
        return lambda uow: groups.add_token(uow, scope, group_id, uid, at=at)

    return await _group_change(request, session, services, db, work)


@router.post(BASE + "/groups/{group_id}/members/remove")
async def remove_member(
    group_id: str, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Remove a driver or a token from a group."""

    def work(scope: Scope, form: Form, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        driver, uid = form.get("driver_id", ""), form.get("uid", "")
        if driver.isdigit():
            return lambda uow: groups.remove_driver(uow, scope, group_id, int(driver), at=at)
        if uid:
            return lambda uow: groups.remove_token(uow, scope, group_id, uid, at=at)
        raise Invalid("name the driver or the token to remove")

    return await _group_change(request, session, services, db, work)


def _rule_spec(form: Form) -> rules.RuleSpec:
    days = form.every("days")
    if any(not d.isdigit() for d in days):
        raise Invalid("days are ISO weekdays 1 (Monday) to 7 (Sunday)")
    evse = form.get("evse_id", "")
    if evse and not evse.isdigit():
        raise Invalid(f"evse {evse!r} is not a number")
    return rules.RuleSpec(
        site_id=text_or_none(form, "site_id"),
        station_id=text_or_none(form, "station_id"),
        evse_id=int(evse) if evse else None,
        # No day ticked means every day (a rule about hours only).
        days=[int(d) for d in days] or None,
        start_time=text_or_none(form, "start_time"),
        end_time=text_or_none(form, "end_time"),
    )


@router.post(BASE + "/groups/{group_id}/rules")
async def add_rule(
    group_id: str, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Add a rule: a place (site, station, EVSE; empty = any) and a time window (site's time)."""

    def work(scope: Scope, form: Form, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        spec = _rule_spec(form)
        return lambda uow: rules.add_rule(uow, scope, group_id, spec, at=at)

    return await _group_change(request, session, services, db, work)


@router.post(BASE + "/groups/{group_id}/rules/{rule_id}/delete")
async def delete_rule(
    group_id: str, rule_id: int, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Delete one rule of a group."""

    def work(scope: Scope, form: Form, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        return lambda uow: rules.delete_rule(uow, scope, group_id, rule_id, at=at)

    return await _group_change(request, session, services, db, work)


# --- access modes of sites and stations -------------------------------------------------------

INHERIT = "inherit"


@router.get(f"{BASE}/places")
async def places_page(request: Request, session: Session, db: Db) -> Response:
    """Sites and stations with their access mode: public, private or mixed."""
    scope = await scope_of(db, session)
    return await _places_page(request, session, scope, db)


async def _places_page(
    request: Request,
    session: WebSession,
    scope: Scope,
    db: Database,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async def load(s: AsyncSession) -> tuple[list[Site], list[Station]]:
        found, _ = await stations.list_stations(s, limit=LIST_ROWS, offset=0)
        visible = [v.station for v in found if await station_role(s, scope, v.station.id)]
        return await _visible_sites(s, scope), visible

    places, chargers = await db.read(load)
    return page(
        request,
        "admin_places.html",
        status_code=status_code,
        session=session,
        sites=places,
        stations=chargers,
        modes=ACCESS_MODES,
        inherit=INHERIT,
        editable=may_edit(scope),
        error=error,
    )


async def _mode_change(
    request: Request,
    session: WebSession,
    services: ApiServices,
    db: Database,
    work: Callable[[Scope, str, datetime], Callable[[UnitOfWork], Awaitable[object]]],
) -> Response:
    form = await posted(request, session)
    scope = await scope_of(db, session)
    try:
        await change(
            services, scope, work(scope, form.get("access_mode", ""), services.clock.now())
        )
    except JouleError as error:
        return await _places_page(
            request, session, scope, db, error=str(error), status_code=error_status(error)
        )
    return RedirectResponse(f"{BASE}/places", status_code=303)


@router.post(BASE + "/sites/{site_id}/mode")
async def set_site_mode(
    site_id: str, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Make a site public, private or mixed."""

    def work(scope: Scope, mode: str, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        return lambda uow: modes.set_site_mode(uow, scope, site_id, mode, at=at)

    return await _mode_change(request, session, services, db, work)


@router.post(BASE + "/stations/{station_id}/mode")
async def set_station_mode(
    station_id: str, request: Request, session: Session, services: Services, db: Db
) -> Response:
    """Override a station's access mode, or let it follow its site again."""

    def work(scope: Scope, mode: str, at: datetime) -> Callable[[UnitOfWork], Awaitable[object]]:
        chosen = None if mode == INHERIT else mode
        return lambda uow: modes.set_station_mode(uow, scope, station_id, chosen, at=at)

    return await _mode_change(request, session, services, db, work)
