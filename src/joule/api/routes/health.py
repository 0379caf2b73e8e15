"""Health: is this process serving (contract: no auth)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from joule import __version__

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"
    version: str


@router.get("/health")
async def health() -> Health:
    """200 once the server accepts requests."""
    return Health(version=__version__)
