"""``/health`` (the process answers) and ``/ready`` (the database and Redis answer too)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Request, get
from litestar.datastructures import State
from sqlalchemy import text

from propdesk import __version__
from propdesk.access.permissions import public
from propdesk.errors import PropdeskError
from propdesk.http.deps import RuntimeDep
from propdesk.http.tenant import NO_TENANT_OPT

log = logging.getLogger("propdesk.http.health")

#: How long one readiness check may take before it counts as failed.
CHECK_TIMEOUT = 2.0
_OPT = {**public(), NO_TENANT_OPT: True}


class NotReady(PropdeskError):
    """A dependency of the service does not answer."""

    status = 503
    title = "Not ready"
    slug = "not-ready"

    def __init__(self, checks: dict[str, str]) -> None:
        failed = [name for name, result in checks.items() if result != "ok"]
        super().__init__(f"not ready: {', '.join(failed)} did not answer")
        #: RFC 9457 extension member with every check's result.
        self.problem_extra = {"checks": checks}


@get("/health", opt=_OPT, tags=["operations"], operation_id="health", sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is up (touches neither the database nor Redis)."""
    return {"status": "ok", "version": __version__}


async def _check(name: str, probe: Any) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe()
    except Exception as exc:
        log.warning("readiness check %s failed: %r", name, exc)
        return "failed"
    return "ok"


@get("/ready", opt=_OPT, tags=["operations"], operation_id="ready")
async def ready(request: Request[Any, Any, State], runtime: RuntimeDep) -> dict[str, Any]:
    """The database and Redis answer; otherwise a 503 problem naming what failed."""

    async def database() -> None:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await request.app.state.redis.ping()

    names = ("database", "redis")
    results = await asyncio.gather(_check("database", database), _check("redis", redis))
    checks = dict(zip(names, results, strict=True))
    if any(result != "ok" for result in checks.values()):
        raise NotReady(checks)
    return {"status": "ready", "checks": checks}


ROUTES = [health, ready]
