"""The job that forgets idempotency keys once they are older than ``service.KEEP``."""

from __future__ import annotations

from typing import Any

import structlog

from propdesk.idempotency.service import prune
from propdesk.plugins.markers import hookimpl
from propdesk.worker.decorators import JobContext, job_runtime
from propdesk.worker.jobs import JobDefinition

log = structlog.get_logger(__name__)


async def prune_idempotency_keys(ctx: JobContext) -> dict[str, Any]:
    """Every active desk's expired keys, desk by desk (one failing desk does not stop others)."""
    from propdesk.tenancy.service import list_tenants

    runtime = job_runtime(ctx)
    pruned: dict[str, Any] = {}
    for tenant in await list_tenants(runtime):
        if tenant.status != "active":
            continue
        try:
            async with runtime.db.unit_of_work(tenant) as session:
                pruned[tenant.slug] = await prune(session)
        except Exception:
            log.exception("idempotency.prune_failed", tenant=tenant.slug)
    return pruned


@hookimpl
def propdesk_register_jobs() -> list[JobDefinition]:
    return [JobDefinition("prune_idempotency_keys", prune_idempotency_keys, cron={"minute": 17})]
