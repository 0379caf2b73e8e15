"""The app factory: the operator REST API under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI

from joule import __version__
from joule.api import errors
from joule.api.deps import ApiServices, Database, StationGuard
from joule.api.request_id import RequestIdMiddleware
from joule.api.routes import (
    access_modes,
    api_keys,
    audit,
    auth,
    commands,
    commands_maintenance,
    commands_messages,
    commands_profiles,
    commands_reservations,
    commands_variables,
    driver_me,
    drivers,
    groups,
    health,
    operators,
    organisations,
    reports,
    sites,
    station_history,
    stations,
    token_csv,
    tokens,
    transactions,
    uptime,
)
from joule.domain.command.service import CommandService
from joule.web.mount import install as install_dashboard

PREFIX = "/api/v1"


def create_app(services: ApiServices) -> FastAPI:
    """Build the API for these services (the runtime owns their lifecycle)."""
    app = FastAPI(
        title="Joule",
        summary="Operator API of the Joule charging station management system",
        version=__version__,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.state.database = Database(services.committer)
    app.state.command_service = CommandService(
        committer=services.committer,
        sender=services.commands,
        clock=services.clock,
        timeout_s=services.settings.call_timeout_s,
    )
    errors.install(app)
    for module in (
        health,
        auth,
        operators,
        organisations,
        api_keys,
        audit,
        stations,
        station_history,
        commands,
        commands_maintenance,
        commands_profiles,
        commands_reservations,
        commands_messages,
        commands_variables,
        token_csv,  # before tokens and drivers: /tokens/export.csv is no {uid}
        tokens,
        drivers,
        groups,
        access_modes,
        transactions,
        sites,
        uptime,
        reports,
        driver_me,
    ):
        # Every route with a {station_id} answers 404 outside the caller's scope (issue 5).
        app.include_router(module.router, prefix=PREFIX, dependencies=[StationGuard])
    install_dashboard(app, services.events)  # the operator dashboard at / and /ui/ (ADR 0005)
    app.add_middleware(RequestIdMiddleware)  # outermost: every line of a request carries its id
    return app
