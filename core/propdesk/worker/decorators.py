"""``tenant_job``: jobs carry the tenant slug explicitly and run inside that tenant's context."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import structlog
from arq.worker import Retry

from propdesk.logs import request_id_var
from propdesk.tenancy.context import TenantContext, tenant_scope
from propdesk.tenancy.directory import load_tenant
from propdesk.tenancy.naming import is_valid_slug

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")
JobContext = dict[str, Any]

#: A suspended desk's jobs wait and retry; its events stay in the outbox until it is resumed.
SUSPENDED_RETRY_SECONDS = 60

log = structlog.get_logger(__name__)


def job_runtime(ctx: JobContext) -> Runtime:
    """The worker's ``Runtime`` (put in ``ctx`` by the worker's ``on_startup``)."""
    try:
        runtime: Runtime = ctx["runtime"]
    except KeyError:
        raise RuntimeError("no runtime in the job context: run jobs in `propdesk worker`") from None
    return runtime


def tenant_job(
    fn: Callable[Concatenate[JobContext, TenantContext, P], Awaitable[R]],
) -> Callable[Concatenate[JobContext, str, P], Awaitable[R | None]]:
    """Turn ``fn(ctx, tenant: TenantContext, ...)`` into the arq job ``job(ctx, slug: str, ...)``.

    The job validates the slug (an unsafe one is a bug: the job fails), loads the tenant from
    the registry and runs ``fn`` with the tenant ContextVar and the log context (``tenant``,
    ``job_id``) set, clearing both afterwards, also on error. An unknown tenant (deleted) skips
    the job with a log line; a suspended one raises ``Retry`` so the work happens once the desk
    is resumed (when arq runs out of tries, the outbox sweep picks its events up again).
    """

    @functools.wraps(fn)
    async def job(ctx: JobContext, tenant: str, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        if not isinstance(tenant, str) or not is_valid_slug(tenant):
            raise ValueError(f"job {fn.__name__}: {tenant!r} is not a tenant slug")
        job_id = ctx.get("job_id")
        with structlog.contextvars.bound_contextvars(tenant=tenant, job_id=job_id):
            token = request_id_var.set(job_id)
            try:
                runtime = job_runtime(ctx)
                async with runtime.db.session() as session:
                    context = await load_tenant(session, tenant)
                if context is None:
                    log.warning("job.skipped", reason="unknown tenant", job=fn.__name__)
                    return None
                if context.status != "active":
                    log.info("job.deferred", reason=f"desk is {context.status}", job=fn.__name__)
                    raise Retry(defer=SUSPENDED_RETRY_SECONDS)
                with tenant_scope(context):
                    return await fn(ctx, context, *args, **kwargs)
            finally:
                request_id_var.reset(token)

    return job
