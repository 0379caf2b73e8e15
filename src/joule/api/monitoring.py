"""Monitoring on the API app: alert and bulk routes under /api/v1, Prometheus at /metrics."""

from __future__ import annotations

from fastapi import FastAPI

from joule.api.deps import StationGuard
from joule.api.routes import alerts, bulk, metrics
from joule.domain.alerting.evaluator import AlertEvaluator
from joule.domain.command.bulk import BulkRunner
from joule.kit.metrics import JouleMetrics

PREFIX = "/api/v1"


def install(
    app: FastAPI,
    *,
    bulk_runner: BulkRunner,
    evaluator: AlertEvaluator | None = None,
    registry: JouleMetrics | None = None,
) -> None:
    """Add the monitoring routes and the services they use to an app from create_app."""
    app.state.bulk_runner = bulk_runner
    app.state.alert_evaluator = evaluator
    # As in create_app: any {station_id} route answers 404 outside the caller's scope (issue 5).
    app.include_router(alerts.router, prefix=PREFIX, dependencies=[StationGuard])
    app.include_router(bulk.router, prefix=PREFIX, dependencies=[StationGuard])
    if registry is not None:
        app.state.metrics = registry
        app.include_router(metrics.router)
