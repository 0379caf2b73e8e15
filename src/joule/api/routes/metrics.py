"""Prometheus /metrics (text exposition format) at the root, where scrapers look for it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from joule.kit.metrics import CONTENT_TYPE, JouleMetrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every metric of this process; no station ids, no secrets (labels are bounded sets)."""
    registry: JouleMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)
