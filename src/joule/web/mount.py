"""Put the dashboard on the API's app: pages under /ui/, assets under /ui/static/."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from joule.bus.port import EventBus
from joule.web import admin_access, driver_portal, pages, station
from joule.web.auth import CsrfRejected, LoginRequired
from joule.web.live import LiveHub
from joule.web.render import HERE


def _wants_page(request: Request) -> bool:
    # Navigations get a redirect to the login form; scripts (fetch, EventSource) get a status.
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def _login_required(request: Request, error: Exception) -> Response:
    if _wants_page(request):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/ui/login?next={target}", status_code=303)
    return JSONResponse({"detail": "log in first"}, status_code=401)


async def _csrf_rejected(request: Request, error: Exception) -> Response:
    return JSONResponse({"detail": f"refused: {error}"}, status_code=403)


def install(app: FastAPI, events: EventBus | None) -> LiveHub:
    """Mount pages, assets and the live hub (subscribed to `events` when there is a bus)."""
    hub = LiveHub()
    if events is not None:
        hub.attach(events)
    app.state.live = hub
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.include_router(pages.router)
    app.include_router(station.router)
    app.include_router(driver_portal.router)
    app.include_router(admin_access.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="static")
    return hub


def close_live(app: object) -> None:
    """End the open live streams so the HTTP server can shut down without waiting on them."""
    hub = getattr(getattr(app, "state", None), "live", None)
    if isinstance(hub, LiveHub):
        hub.close()
