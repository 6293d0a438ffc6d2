"""The arq worker of ``propdesk worker``, built from the process's ``Runtime``.

Core jobs (outbox dispatch and sweep) plus every plugin's ``JobDefinition``s; JSON jobs; a short
poll delay, because breach actions queued later must not wait arq's default half second.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from arq.cron import CronJob, cron
from arq.worker import Function, Worker, func

from propdesk.errors import ConfigurationError
from propdesk.outbox.service import DISPATCH_JOB
from propdesk.runtime import Runtime
from propdesk.worker.decorators import JobContext
from propdesk.worker.dispatch import dispatch_event, sweep_outbox
from propdesk.worker.engine import start_engine
from propdesk.worker.jobs import JobDefinition
from propdesk.worker.queue import dumps, loads, redis_settings

if TYPE_CHECKING:
    from arq.typing import WorkerCoroutine

POLL_DELAY_SECONDS = 0.05
MAX_JOBS = 10
JOB_TIMEOUT_SECONDS = 60
DISPATCH_MAX_TRIES = 10
#: How long arq keeps a job's result, and so blocks re-queuing its job id. An event whose
#: dispatch ran out of tries is swept again once its failed result expired.
KEEP_RESULT_SECONDS = 300


def every(seconds: int) -> dict[str, Any]:
    """arq cron keywords for "about every ``seconds`` seconds" (aligned to the minute)."""
    if seconds < 1:
        raise ConfigurationError("PROPDESK_OUTBOX_SWEEP_SECONDS must be at least 1")
    if seconds < 60:
        return {"second": set(range(0, 60, seconds))}
    return {"minute": set(range(0, 60, max(seconds // 60, 1))), "second": 0}


def cron_name(queue_name: str, job: str) -> str:
    # Unique cron job ids are global in Redis: keep two deployments (or test runs) that share a
    # Redis on different queues from swallowing each other's ticks.
    return f"cron:{queue_name}:{job}"


def _plugin_jobs(
    queue_name: str, jobs: list[JobDefinition]
) -> tuple[list[Function], list[CronJob]]:
    functions, crons = [], []
    for job in jobs:
        coroutine = cast("WorkerCoroutine", job.function)
        functions.append(
            func(coroutine, name=job.name, max_tries=job.max_tries, timeout=job.timeout_seconds)
        )
        if job.cron is not None:
            crons.append(
                cron(
                    coroutine,
                    name=cron_name(queue_name, job.name),
                    unique=True,
                    max_tries=job.max_tries,
                    timeout=job.timeout_seconds,
                    **job.cron,
                )
            )
    return functions, crons


def worker_settings(runtime: Runtime, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of ``arq.worker.Worker`` for this runtime (``overrides`` win)."""
    settings = runtime.settings
    queue_name = settings.queue_name
    functions = [
        func(
            cast("WorkerCoroutine", dispatch_event),
            name=DISPATCH_JOB,
            max_tries=DISPATCH_MAX_TRIES,
            timeout=JOB_TIMEOUT_SECONDS,
            keep_result=0,  # a finished dispatch frees its job id at once
        )
    ]
    crons = [
        cron(
            sweep_outbox,
            name=cron_name(queue_name, "sweep_outbox"),
            unique=True,
            run_at_startup=True,  # a restarted worker (maybe after Redis lost its queue) sweeps now
            timeout=JOB_TIMEOUT_SECONDS,
            **every(settings.outbox_sweep_seconds),
        )
    ]
    plugin_functions, plugin_crons = _plugin_jobs(queue_name, runtime.host.jobs())
    clash = {f.name for f in plugin_functions} & {DISPATCH_JOB}
    if clash:
        raise ConfigurationError(f"plugin job names clash with core jobs: {sorted(clash)}")

    async def on_startup(ctx: JobContext) -> None:
        ctx["runtime"] = runtime
        # A burst worker drains its queue and exits: no place for a long-running engine.
        if settings.engine and not overrides.get("burst"):
            ctx["engine"] = await start_engine(runtime)

    async def on_shutdown(ctx: JobContext) -> None:
        running = ctx.pop("engine", None)
        if running is not None:
            await running.stop()
        ctx.pop("runtime", None)

    return {
        "functions": functions + plugin_functions,
        "cron_jobs": crons + plugin_crons,
        "redis_settings": redis_settings(runtime.redis_url),
        "queue_name": queue_name,
        "job_serializer": dumps,
        "job_deserializer": loads,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "poll_delay": POLL_DELAY_SECONDS,
        "max_jobs": MAX_JOBS,
        "max_tries": 5,
        "job_timeout": JOB_TIMEOUT_SECONDS,
        "keep_result": KEEP_RESULT_SECONDS,
        **overrides,
    }


def create_worker(runtime: Runtime, **overrides: Any) -> Worker:
    """An arq ``Worker`` for this runtime; ``overrides`` are ``Worker`` keyword arguments."""
    return Worker(**worker_settings(runtime, **overrides))


async def run_worker(runtime: Runtime, **overrides: Any) -> Worker:
    """Run a worker in this event loop until it is stopped (or, with ``burst=True``, idle)."""
    worker = create_worker(runtime, **overrides)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        # SIGINT/SIGTERM cancel the worker's main task; anything cancelling us propagates.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
    finally:
        await worker.close()
    return worker
