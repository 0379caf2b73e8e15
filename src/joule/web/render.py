"""The Jinja2 environment of the dashboard: templates shipped in the package, autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from joule import __version__
from joule.web import charts, fmt
from joule.web.energy_chart import energy_bars

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(
    when=fmt.when,
    kwh=fmt.kwh,
    kw=fmt.kw,
    percent=fmt.percent,
    pretty=fmt.pretty,
    status_class=charts.status_class,
    energy_bars=energy_bars,
)
templates.env.globals.update(version=__version__)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; every page gets the request (for url_for) and the session, if any."""
    context.setdefault("session", None)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # The pages carry live operational data: never cache them, never frame them (clickjacking).
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response
