"""Outbox jobs: deliver one event (``dispatch_event``), re-queue stragglers (``sweep_outbox``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from arq.worker import Retry

from propdesk.outbox.service import dispatch, enqueue_dispatch, undispatched
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenants
from propdesk.worker.decorators import JobContext, job_runtime, tenant_job

log = structlog.get_logger(__name__)

#: Back-off after a failed delivery: base * 2^(attempts-1) seconds, capped.
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 300.0
#: Events younger than this are left to the enqueue their own commit made.
SWEEP_MIN_AGE = timedelta(seconds=2)


def retry_delay(attempts: int, base: float = RETRY_BASE_SECONDS) -> float:
    """Seconds to wait before the next try of an event that failed ``attempts`` times."""
    return float(min(base * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS))


@tenant_job
async def dispatch_event(ctx: JobContext, tenant: TenantContext, event_id: str) -> str:
    """Deliver one outbox event to the tenant's subscribers; ``Retry`` while any fails.

    Back-off grows with the event's ``attempts`` kept in PostgreSQL, so it survives Redis loss.
    """
    runtime = job_runtime(ctx)
    outcome = await dispatch(runtime, tenant, uuid.UUID(event_id))
    if outcome.failed:
        delay = retry_delay(outcome.attempts, ctx.get("outbox_retry_base", RETRY_BASE_SECONDS))
        log.warning(
            "outbox.retry",
            event_id=event_id,
            failed=sorted(outcome.failed),
            defer=delay,
            attempts=outcome.attempts,
        )
        raise Retry(defer=delay)
    return outcome.status


async def sweep_outbox(ctx: JobContext) -> int:
    """Queue dispatch jobs for every active desk's undispatched events; return how many.

    Job ids are the events' own, so events whose job is still queued, deferred or running are
    not queued twice. This is what recovers events after Redis lost its queue.
    """
    runtime = job_runtime(ctx)
    min_age = ctx.get("outbox_sweep_min_age", SWEEP_MIN_AGE)
    async with runtime.db.session() as session:
        tenants = await load_tenants(session)
    queued = 0
    for tenant in tenants:
        if tenant.status != "active":
            continue
        try:
            event_ids = await undispatched(runtime, tenant, min_age=min_age)
        except Exception:
            log.exception("outbox.sweep_failed", tenant=tenant.slug)
            continue
        for event_id in event_ids:
            queued += await enqueue_dispatch(runtime.queue, tenant.slug, event_id)
    if queued:
        log.info("outbox.swept", queued=queued)
    return queued
