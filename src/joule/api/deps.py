"""FastAPI dependencies as named types: services, database, paging, the caller and its scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.security import InvalidToken, read_token
from joule.bus.port import CommandSender, EventBus
from joule.config import Settings
from joule.domain.access.scope import Scope, station_role
from joule.domain.command.service import CommandService
from joule.domain.operator import api_keys
from joule.domain.operator import service as operators
from joule.domain.operator.rules import may_administer, may_change
from joule.kit.clock import Clock
from joule.kit.logging import bind as bind_log
from joule.storage.committer import GroupCommitter
from joule.storage.models import Operator
from joule.storage.uow import UnitOfWork

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # scenario 39e: a list never returns unbounded pages
TOKEN_URL = "/api/v1/auth/token"


@dataclass
class ApiServices:
    """Everything the API needs from the rest of Joule (built by the runtime)."""

    committer: GroupCommitter  # run(work) for writes, read(work) for reads
    commands: CommandSender
    settings: Settings
    clock: Clock
    jwt_secret: str
    events: EventBus | None = None  # domain events after commit (the dashboard's live pages)


class Database:
    """Units of work as routes use them: reads beside the writer, writes in the group commit."""

    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run read-only work in its own session."""

        async def unit(uow: UnitOfWork) -> T:
            return await work(uow.session)

        return await self._committer.read(unit)

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run work in the next group commit; returns once it is durable."""

        async def unit(uow: UnitOfWork) -> T:
            return await work(uow.session)

        return await self._committer.run(unit)


@dataclass(frozen=True, slots=True)
class Paging:
    """A page request: limit capped at MAX_LIMIT, offset from 0."""

    limit: int
    offset: int


def get_services(request: Request) -> ApiServices:
    """The services the app was created with."""
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(get_services)]


def get_database(request: Request) -> Database:
    """The app's database access."""
    database: Database = request.app.state.database
    return database


Db = Annotated[Database, Depends(get_database)]


def get_command_service(request: Request) -> CommandService:
    """The app's command service (operator → station)."""
    commands: CommandService = request.app.state.command_service
    return commands


Commands = Annotated[CommandService, Depends(get_command_service)]


def get_paging(
    limit: Annotated[
        int, Query(ge=1, description=f"page size, at most {MAX_LIMIT}")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Paging:
    """Paging from the query string; a larger limit is capped, not refused."""
    return Paging(limit=min(limit, MAX_LIMIT), offset=offset)


PageParams = Annotated[Paging, Depends(get_paging)]

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
STATION_PARAM = "station_id"


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to present a bearer token (RFC 6750 §3)."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: an operator (bearer JWT) or an integration (API key), and its scope.

    `role` is the role that applies to this request: on a per-station route it is the caller's
    role on that station (a site grant can raise it), elsewhere the role of its organisation scope.
    """

    scope: Scope
    operator: Operator | None  # None for an API key
    api_key_id: int | None = None
    station_role: str | None = None  # the role on the route's {station_id}, when there is one

    @property
    def email(self) -> str:
        """The actor's name for logs and audit: the operator's e-mail or api-key:<prefix>."""
        return self.scope.actor

    @property
    def id(self) -> int | None:
        """The operator's id (None for an API key)."""
        return self.scope.operator_id

    @property
    def role(self) -> str:
        """The role that applies to this request."""
        return self.station_role if self.station_role is not None else self.scope.role


async def _operator_caller(services: ApiServices, db: Database, token: str) -> Caller:
    try:
        claims = read_token(token, secret=services.jwt_secret, now=services.clock.now())
    except InvalidToken:
        raise unauthorized("invalid or expired token") from None

    async def load(session: AsyncSession) -> tuple[Operator, Scope] | None:
        # Read on every request: deactivation, a changed role or a new password apply at once.
        operator = await operators.get_active_operator(
            session, claims.operator_id, claims.issued_at
        )
        if operator is None:
            return None
        return operator, await operators.operator_scope(session, operator)

    found = await db.read(load)
    if found is None:
        raise unauthorized("invalid or expired token")
    operator, scope = found
    return Caller(scope=scope, operator=operator)


async def _key_caller(services: ApiServices, db: Database, presented: str) -> Caller:
    now = services.clock.now()
    found = await db.read(lambda s: api_keys.authenticate_key(s, presented, now=now))
    if found is None:
        raise unauthorized("invalid, expired or revoked API key")
    if found.touch_due:
        key_id = found.key_id
        await db.write(lambda s: api_keys.touch_key(s, key_id, at=now))
    return Caller(scope=found.scope, operator=None, api_key_id=found.key_id)


async def resolve_caller(
    request: Request, services: ApiServices, db: Database, bearer: str | None, api_key: str | None
) -> Caller:
    """The caller of this request (cached on the request: several dependencies ask)."""
    cached: Caller | None = getattr(request.state, "joule_caller", None)
    if cached is not None:
        return cached
    if api_key is not None:
        caller = await _key_caller(services, db, api_key)
    elif bearer is not None and api_keys.looks_like_key(bearer):
        caller = await _key_caller(services, db, bearer)
    elif bearer is not None:
        caller = await _operator_caller(services, db, bearer)
    else:
        raise unauthorized("not authenticated")
    station_id = request.path_params.get(STATION_PARAM)
    if isinstance(station_id, str):
        scope = caller.scope
        role = await db.read(lambda s: station_role(s, scope, station_id))
        if role is None:
            # Outside the scope is indistinguishable from absent (issue 5: 404, never 403).
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"station {station_id} does not exist"
            )
        caller = Caller(
            scope=caller.scope,
            operator=caller.operator,
            api_key_id=caller.api_key_id,
            station_role=role,
        )
    bind_log(operator=caller.email)  # the request's log lines say who (request_id.py resets)
    request.state.joule_caller = caller
    return caller


async def get_current_caller(
    request: Request,
    services: Services,
    db: Db,
    bearer: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller:
    """The authenticated caller; 401 without valid credentials, 404 for a station out of scope."""
    return await resolve_caller(request, services, db, bearer, api_key)


CurrentCaller = Annotated[Caller, Depends(get_current_caller)]


async def get_optional_caller(
    request: Request,
    services: Services,
    db: Db,
    bearer: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller | None:
    """The caller when credentials came with the request (bad ones still 401), else None."""
    if bearer is None and api_key is None:
        return None
    return await resolve_caller(request, services, db, bearer, api_key)


OptionalCaller = Annotated[Caller | None, Depends(get_optional_caller)]
CurrentOperator = CurrentCaller  # the name routes have always used: any authenticated caller


def get_current_scope(caller: CurrentCaller) -> Scope:
    """The caller's scope (organisations, role, site grants) for domain queries."""
    return caller.scope


CurrentScope = Annotated[Scope, Depends(get_current_scope)]


async def guard_station(request: Request, services: Services, db: Db) -> None:
    """Router-level: any route with a {station_id} answers 404 for a station out of the scope.

    Installed where routers are included (app.py), so every present and future per-station route
    is covered without each one remembering. Routes without the parameter pass untouched (their
    own dependencies authenticate), so public endpoints stay public.
    """
    if STATION_PARAM not in request.path_params:
        return
    bearer = await _bearer(request)
    api_key = await _api_key_header(request)
    await resolve_caller(request, services, db, bearer, api_key)


StationGuard = Depends(guard_station)


def get_command_operator(caller: CurrentCaller) -> Caller:
    """A caller who may change data and send commands here (admin, operator); 403 for viewers."""
    if not may_change(caller.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {caller.role} may only read")
    return caller


CommandOperator = Annotated[Caller, Depends(get_command_operator)]


def get_admin_operator(caller: CurrentCaller) -> Caller:
    """An admin; 403 for everyone else."""
    if not may_administer(caller.scope.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only an admin may do this")
    return caller


AdminOperator = Annotated[Caller, Depends(get_admin_operator)]
