"""The process's handles, built once at startup by the CLI, the web app and the worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from propdesk.db.engine import Database
from propdesk.db.migrate import pending
from propdesk.errors import ConfigurationError
from propdesk.plugins.manager import PluginHost
from propdesk.settings import Settings
from propdesk.tenancy.naming import SHARED_SCHEMA
from propdesk.worker.queue import JobQueue


@dataclass
class Runtime:
    """Settings, plugins, database and job queue of one process.

    ``redis_url`` is resolved (never None). ``queue`` connects on first use.
    """

    settings: Settings
    host: PluginHost
    db: Database
    redis_url: str
    queue: JobQueue = field(init=False)

    def __post_init__(self) -> None:
        self.queue = JobQueue(self.redis_url, self.settings.queue_name)


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    database_url: str,
    redis_url: str,
    extra_plugins: Sequence[tuple[str, object]] = (),
    require_migrated: bool = True,
) -> AsyncIterator[Runtime]:
    """Load plugins (failing fast), open the database, and check it is migrated."""
    host = PluginHost.load(settings, extra_plugins)
    db = Database(database_url, app_role=settings.app_role, pool_size=settings.db_pool_size)
    runtime = Runtime(settings, host, db, redis_url)
    try:
        if require_migrated:
            await ensure_migrated(db, host)
        yield runtime
    finally:
        from propdesk.plugins.desk import close_desk_components

        await close_desk_components(host)
        await runtime.queue.close()
        await db.dispose()


async def ensure_migrated(db: Database, host: PluginHost) -> None:
    async with db.owner_engine.connect() as conn:
        if await pending(conn, "shared", SHARED_SCHEMA, host.migrations()):
            raise ConfigurationError(
                "the database is not migrated to this version: run `propdesk db upgrade`"
            )
