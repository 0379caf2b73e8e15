"""FastAPI dependencies as named types: services, database, paging, the calling operator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from joule.api.security import InvalidToken, read_token
from joule.bus.port import CommandSender, EventBus
from joule.config import Settings
from joule.domain.command.service import CommandService
from joule.domain.operator import service as operators
from joule.domain.operator.rules import may_administer, may_change
from joule.kit.clock import Clock
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


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to present a bearer token (RFC 6750 §3)."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def get_current_operator(
    services: Services, db: Db, token: Annotated[str | None, Depends(_bearer)]
) -> Operator:
    """The active operator the bearer token names; 401 otherwise."""
    if token is None:
        raise unauthorized("not authenticated")
    try:
        claims = read_token(token, secret=services.jwt_secret, now=services.clock.now())
    except InvalidToken:
        raise unauthorized("invalid or expired token") from None
    # Read on every request so a deactivated operator or a changed role takes effect at once.
    operator = await db.read(lambda s: operators.get_active_operator(s, claims.operator_id))
    if operator is None:
        raise unauthorized("invalid or expired token")
    return operator


CurrentOperator = Annotated[Operator, Depends(get_current_operator)]


def get_command_operator(operator: CurrentOperator) -> Operator:
    """An operator who may change data and send commands (admin, operator); 403 for viewers."""
    if not may_change(operator.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {operator.role} may only read")
    return operator


CommandOperator = Annotated[Operator, Depends(get_command_operator)]


def get_admin_operator(operator: CurrentOperator) -> Operator:
    """An admin; 403 for everyone else."""
    if not may_administer(operator.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only an admin may do this")
    return operator


AdminOperator = Annotated[Operator, Depends(get_admin_operator)]
