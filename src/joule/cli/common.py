"""Shared CLI plumbing: settings from env + flags, logging, running a unit of work."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from joule.config import Settings
from joule.kit.logging import configure as configure_logging
from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory
from joule.storage.uow import UnitOfWork

T = TypeVar("T")


def settings_with(**flags: Any) -> Settings:
    """Settings from JOULE_* variables, with every flag that was given winning (contract)."""
    given = {k: v for k, v in flags.items() if v is not None}
    return Settings(**given)


def setup_logging(level: str, fmt: str | None = None) -> None:
    """Structured logs on stderr: JSON lines, or console lines on a terminal (kit/logging.py).

    `fmt` None means JOULE_LOG_FORMAT, else auto: a worker process started with only the level
    (cluster.py) still follows the variable the supervisor was given.
    """
    configure_logging(level, fmt or os.environ.get("JOULE_LOG_FORMAT") or None)


def run_work(
    settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]], *, write: bool = True
) -> T:
    """Migrate the database if needed, run one unit of work, and return its result."""

    async def go() -> T:
        if settings.auto_migrate:
            await asyncio.to_thread(migrate.upgrade, settings.database_url)
        engine = create_engine(settings.database_url)
        committer = GroupCommitter(session_factory(engine))
        await committer.start()
        try:
            return await (committer.run(work) if write else committer.read(work))
        finally:
            await committer.stop()
            await engine.dispose()

    return asyncio.run(go())
