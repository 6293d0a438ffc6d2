"""The outbox and the worker against real PostgreSQL and Redis.

Events commit (or roll back) with the change; the worker delivers them to enabled plugins in the
tenant's context, at least once, with one job per event, and recovers them when Redis loses its
queue. Each test runs its own queue (a suffix of the session's) and deletes only its own keys.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
import structlog
from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.jobs import Job
from arq.worker import Retry, Worker
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk import hookimpl
from propdesk.logs import request_id_var
from propdesk.outbox.events import DomainEvent
from propdesk.outbox.models import OutboxDelivery, OutboxEvent
from propdesk.outbox.service import dispatch_job_id, emit, enqueue_dispatch
from propdesk.plugins.manager import PluginHost
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext, current_tenant, maybe_current_tenant
from propdesk.tenancy.models import Tenant, TenantPlugin
from propdesk.tenancy.naming import schema_for
from propdesk.tenancy.provisioning import migrate_tenant_schema
from propdesk.worker.decorators import tenant_job
from propdesk.worker.dispatch import dispatch_event
from propdesk.worker.jobs import JobDefinition
from propdesk.worker.queue import JobQueue, loads
from propdesk.worker.settings import run_worker, worker_settings

# arq 0.28 closes its pool with redis-py's deprecated ``close()``.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

# -- plugins under test ---------------------------------------------------------------------


@dataclass
class Seen:
    plugin: str
    tenant: str  # the tenant argument of the hook
    context: str  # current_tenant() inside the hook
    event: DomainEvent


class Listener:
    """An async ``propdesk_on_event`` that fails its first ``failures`` calls for each event.

    Sweeps cover every active desk of the session's database, so a test may also dispatch
    events other tests left behind: assertions look at their own events only (``calls``).
    """

    def __init__(self, name: str, failures: int = 0) -> None:
        self.name, self.failures = name, failures
        self.seen: list[Seen] = []

    def calls(self, event: DomainEvent) -> list[Seen]:
        return [s for s in self.seen if s.event.event_id == event.event_id]

    def _record(self, tenant: TenantContext, event: DomainEvent) -> None:
        self.seen.append(Seen(self.name, tenant.slug, current_tenant().slug, event))
        if len(self.calls(event)) <= self.failures:
            raise ConnectionError(f"{self.name}: vendor unreachable")

    @hookimpl
    async def propdesk_on_event(self, tenant: TenantContext, event: DomainEvent) -> None:
        await asyncio.sleep(0)
        self._record(tenant, event)


class SyncListener(Listener):
    @hookimpl
    def propdesk_on_event(self, tenant: TenantContext, event: DomainEvent) -> None:  # type: ignore[override]
        self._record(tenant, event)


# -- desks, runtimes and queues -------------------------------------------------------------

PLUGINS_A = ("listener", "flaky", "steady", "sync_listener")
PLUGINS_B = ("other",)


def new_slug() -> str:
    return f"wk_{uuid.uuid4().hex[:10]}"


async def provision(runtime: Runtime, slug: str, plugins: tuple[str, ...]) -> TenantContext:
    """A desk with its schema and enabled plugins (rows written directly: the plugins under
    test exist only in each test's own plugin host)."""
    async with runtime.db.owner_engine.begin() as conn:
        await migrate_tenant_schema(conn, runtime.db, runtime.host, slug)
        session = AsyncSession(bind=conn)
        tenant = Tenant(
            slug=slug,
            schema_name=schema_for(slug),
            display_name=slug.upper(),
            base_currency="USD",
            timezone="UTC",
        )
        session.add(tenant)
        await session.flush()
        session.add_all(TenantPlugin(tenant_id=tenant.id, plugin=p, settings={}) for p in plugins)
        await session.flush()
    return TenantContext(slug, slug.upper(), "active", {p: {} for p in plugins})


async def set_status(runtime: Runtime, slug: str, status: str) -> None:
    async with runtime.db.unit_of_work() as session:
        await session.execute(update(Tenant).where(Tenant.slug == slug).values(status=status))


async def delete_keys(queue: JobQueue, pattern: str) -> None:
    redis = await queue.redis()
    keys = [key async for key in redis.scan_iter(match=pattern, count=1000)]
    if keys:
        await redis.delete(*keys)


async def lose_queue(queue: JobQueue) -> None:
    """What Redis losing our queue looks like: the queue and its jobs' keys are gone."""
    redis = await queue.redis()
    ids = [i.decode() for i in await redis.zrange(queue.queue_name, 0, -1)]
    prefixes = (job_key_prefix, retry_key_prefix, in_progress_key_prefix, result_key_prefix)
    await redis.delete(queue.queue_name, *(p + i for i in ids for p in prefixes))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desks(propdesk_runtime: Runtime) -> AsyncIterator[tuple[TenantContext, TenantContext]]:
    """Desk A enables the listeners, desk B only ``other``."""
    a = await provision(propdesk_runtime, new_slug(), PLUGINS_A)
    b = await provision(propdesk_runtime, new_slug(), PLUGINS_B)
    yield a, b
    for desk in (a, b):
        await delete_keys(propdesk_runtime.queue, f"arq:*:{desk.slug}:*")


MakeRuntime = Callable[..., Runtime]


@pytest_asyncio.fixture
async def make_runtime(propdesk_runtime: Runtime) -> AsyncIterator[MakeRuntime]:
    """``make_runtime(listener=obj, ...)``: the session's database with these plugins, on a queue
    of the test's own; its Redis keys are deleted afterwards."""
    made: list[Runtime] = []

    def make(**plugins: object) -> Runtime:
        settings = propdesk_runtime.settings.model_copy(
            update={
                "queue_name": f"{propdesk_runtime.settings.queue_name}:{uuid.uuid4().hex[:8]}",
                "load_entrypoints": False,
            }
        )
        host = PluginHost.load(settings, list(plugins.items()))
        runtime = Runtime(settings, host, propdesk_runtime.db, propdesk_runtime.redis_url)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        await lose_queue(runtime.queue)
        await delete_keys(runtime.queue, f"*{runtime.settings.queue_name}*")
        await runtime.queue.close()


async def drain(runtime: Runtime, **ctx: Any) -> Worker:
    """Run a burst worker in this process until the queue is empty (bounded in time)."""
    ctx = {"outbox_retry_base": 0.05, **ctx}
    worker = await asyncio.wait_for(
        run_worker(runtime, burst=True, handle_signals=False, poll_delay=0.01, ctx=ctx), 30
    )
    assert worker.jobs_failed == 0
    return worker


async def emit_one(runtime: Runtime, desk: TenantContext, name: str = "desk.tested") -> DomainEvent:
    async with runtime.db.unit_of_work(desk) as session:
        return emit(session, runtime.queue, name, {"amount": "100.00"})


async def outbox_row(
    runtime: Runtime, desk: TenantContext, event: DomainEvent
) -> OutboxEvent | None:
    async with runtime.db.session(desk) as session:
        return await session.scalar(
            select(OutboxEvent).where(OutboxEvent.event_id == event.event_id)
        )


async def queued_ids(runtime: Runtime) -> list[str]:
    redis = await runtime.queue.redis()
    return [i.decode() for i in await redis.zrange(runtime.settings.queue_name, 0, -1)]


# -- the transaction decides ----------------------------------------------------------------


async def test_event_commits_with_the_change_and_queues_its_dispatch(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    runtime, (a, _) = make_runtime(), desks
    async with runtime.db.unit_of_work(a) as session:
        await session.execute(
            update(Tenant).where(Tenant.slug == a.slug).values(display_name="Renamed desk")
        )
        event = emit(session, runtime.queue, "desk.renamed", {"name": "Renamed desk"})
        assert await queued_ids(runtime) == []  # nothing is queued before the commit

    row = await outbox_row(runtime, a, event)
    assert row is not None and row.name == "desk.renamed" and row.dispatched_at is None
    assert row.payload == {"name": "Renamed desk"}
    assert await queued_ids(runtime) == [f"dispatch_event:{a.slug}:{event.event_id}"]


async def test_rolled_back_change_leaves_no_event_and_no_job(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    runtime, (a, _) = make_runtime(), desks
    events: list[DomainEvent] = []
    with pytest.raises(RuntimeError, match="refused"):
        async with runtime.db.unit_of_work(a) as session:
            await session.execute(
                update(Tenant).where(Tenant.slug == a.slug).values(display_name="Never")
            )
            events.append(emit(session, runtime.queue, "desk.renamed", {"name": "Never"}))
            await session.flush()
            raise RuntimeError("refused")

    assert await outbox_row(runtime, a, events[0]) is None
    assert await queued_ids(runtime) == []
    async with runtime.db.session() as session:
        name = await session.scalar(select(Tenant.display_name).where(Tenant.slug == a.slug))
    assert name != "Never"


async def test_emit_refuses_a_session_without_a_desk(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime()
    async with runtime.db.session() as session:
        with pytest.raises(ValueError, match="tenant session"):
            emit(session, runtime.queue, "desk.renamed", {})


async def test_commit_stands_when_redis_is_down_and_the_sweep_delivers_later(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener = Listener("listener")
    runtime, (a, _) = make_runtime(listener=listener), desks
    dead = JobQueue("redis://127.0.0.1:1/0", runtime.settings.queue_name)
    async with runtime.db.unit_of_work(a) as session:
        event = emit(session, dead, "desk.tested", {})  # the after-commit enqueue fails

    assert (await outbox_row(runtime, a, event)) is not None
    assert await queued_ids(runtime) == []
    await drain(runtime, outbox_sweep_min_age=timedelta(0))
    assert [s.context for s in listener.calls(event)] == [a.slug]


# -- delivery --------------------------------------------------------------------------------


async def test_worker_delivers_in_the_events_tenant_context(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener = Listener("listener")
    runtime, (a, _) = make_runtime(listener=listener), desks
    event = await emit_one(runtime, a)

    await drain(runtime)

    assert [(s.tenant, s.context) for s in listener.calls(event)] == [(a.slug, a.slug)]
    assert listener.calls(event)[0].event.payload == {"amount": "100.00"}
    assert maybe_current_tenant() is None
    row = await outbox_row(runtime, a, event)
    assert row is not None and row.dispatched_at is not None
    async with runtime.db.session(a) as session:
        delivered = await session.scalars(
            select(OutboxDelivery.plugin).where(OutboxDelivery.event_id == event.event_id)
        )
        # The core's own subscribers (breach actions, the engine) see every event too.
        assert sorted(delivered) == [
            "listener",
            "propdesk.actions",
            "propdesk.engine",
            "propdesk.payouts",
        ]


async def test_a_plugin_not_enabled_for_a_desk_never_sees_its_events(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener, other = Listener("listener"), Listener("other")
    runtime, (a, b) = make_runtime(listener=listener, other=other), desks
    event_a = await emit_one(runtime, a, "desk.a")
    event_b = await emit_one(runtime, b, "desk.b")

    await drain(runtime)

    assert [s.context for s in listener.calls(event_a)] == [a.slug]
    assert [s.context for s in other.calls(event_b)] == [b.slug]
    assert listener.calls(event_b) == [] and other.calls(event_a) == []
    assert b.slug not in {s.tenant for s in listener.seen}


async def test_async_and_sync_hooks_both_receive_the_event(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener, sync_listener = Listener("listener"), SyncListener("sync_listener")
    runtime, (a, _) = make_runtime(listener=listener, sync_listener=sync_listener), desks
    event = await emit_one(runtime, a)

    await drain(runtime)

    for plugin in (listener, sync_listener):
        assert [s.context for s in plugin.calls(event)] == [a.slug]


# -- at least once, once per plugin -----------------------------------------------------------


async def test_a_failing_plugin_is_retried_and_one_that_succeeded_is_not_called_again(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    flaky, steady = Listener("flaky", failures=1), Listener("steady")
    runtime, (a, _) = make_runtime(flaky=flaky, steady=steady), desks
    event = await emit_one(runtime, a)

    worker = await drain(runtime)

    assert worker.jobs_retried >= 1
    assert len(flaky.calls(event)) == 2
    assert len(steady.calls(event)) == 1
    row = await outbox_row(runtime, a, event)
    assert row is not None and row.dispatched_at is not None and row.attempts == 1


async def test_a_failed_try_records_the_error_and_retries_later(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    flaky = Listener("flaky", failures=5)
    runtime, (a, _) = make_runtime(flaky=flaky), desks
    event = await emit_one(runtime, a)
    ctx = {"runtime": runtime, "job_id": "test-job", "outbox_retry_base": 10}

    with pytest.raises(Retry) as raised:
        await dispatch_event(ctx, a.slug, str(event.event_id))

    assert raised.value.defer_score == 10_000
    row = await outbox_row(runtime, a, event)
    assert row is not None and row.dispatched_at is None and row.attempts == 1
    assert row.last_error == "flaky: ConnectionError: flaky: vendor unreachable"
    # the job left no tenant, request id or log context behind, even though it raised
    assert maybe_current_tenant() is None
    assert request_id_var.get() is None
    assert "tenant" not in structlog.contextvars.get_contextvars()
    async with runtime.db.unit_of_work(a) as session:  # leave nothing for other tests' sweeps
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.event_id == event.event_id)
            .values(dispatched_at=func.now())
        )


async def test_the_same_event_queued_twice_is_one_job(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener = Listener("listener")
    runtime, (a, _) = make_runtime(listener=listener), desks
    event = await emit_one(runtime, a)  # its commit queued the job

    assert await enqueue_dispatch(runtime.queue, a.slug, event.event_id) is False
    assert await enqueue_dispatch(runtime.queue, a.slug, str(event.event_id)) is False
    assert await queued_ids(runtime) == [dispatch_job_id(a.slug, event.event_id)]

    await drain(runtime, outbox_sweep_min_age=timedelta(0))
    assert len(listener.calls(event)) == 1


async def test_the_sweep_requeues_events_after_redis_lost_the_queue(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    listener = Listener("listener")
    runtime, (a, _) = make_runtime(listener=listener), desks
    event = await emit_one(runtime, a)
    await lose_queue(runtime.queue)
    assert await queued_ids(runtime) == []

    await drain(runtime, outbox_sweep_min_age=timedelta(0))

    assert [s.context for s in listener.calls(event)] == [a.slug]
    row = await outbox_row(runtime, a, event)
    assert row is not None and row.dispatched_at is not None


# -- the tenant_job decorator ------------------------------------------------------------------


async def test_a_suspended_desk_keeps_its_events_until_it_is_resumed(
    make_runtime: MakeRuntime, propdesk_runtime: Runtime
) -> None:
    listener = Listener("listener")
    runtime = make_runtime(listener=listener)
    desk = await provision(propdesk_runtime, new_slug(), ("listener",))
    try:
        event = await emit_one(runtime, desk)
        await lose_queue(runtime.queue)
        await set_status(runtime, desk.slug, "suspended")

        with pytest.raises(Retry):  # a queued job waits
            await dispatch_event({"runtime": runtime}, desk.slug, str(event.event_id))
        await drain(runtime, outbox_sweep_min_age=timedelta(0))  # the sweep skips the desk
        assert listener.calls(event) == []
        assert (row := await outbox_row(runtime, desk, event)) and row.dispatched_at is None

        await set_status(runtime, desk.slug, "active")
        await drain(runtime, outbox_sweep_min_age=timedelta(0))
        assert [s.context for s in listener.calls(event)] == [desk.slug]
    finally:
        await delete_keys(runtime.queue, f"arq:*:{desk.slug}:*")


async def test_tenant_job_refuses_unsafe_slugs_and_skips_unknown_desks(
    make_runtime: MakeRuntime,
) -> None:
    calls: list[str] = []

    @tenant_job
    async def job(ctx: dict[str, Any], tenant: TenantContext) -> str:
        calls.append(tenant.slug)
        return "ran"

    ctx = {"runtime": make_runtime()}
    with pytest.raises(ValueError, match="not a tenant slug"):
        await job(ctx, "x; DROP SCHEMA propdesk")
    assert await job(ctx, "no_such_desk") is None
    assert calls == []


async def test_plugin_jobs_run_in_their_tenants_context(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    ran: list[tuple[str, str, str]] = []

    @tenant_job
    async def ping(ctx: dict[str, Any], tenant: TenantContext, note: str) -> str:
        ran.append((tenant.slug, current_tenant().slug, note))
        return note

    async def tick(ctx: dict[str, Any]) -> None:
        """A cron fans out to tenant jobs; this one does nothing."""

    class Pinger:
        @hookimpl
        def propdesk_register_jobs(self) -> list[JobDefinition]:
            return [
                JobDefinition("wk_ping", ping),
                JobDefinition("wk_tick", tick, cron={"minute": 0}),
            ]

    runtime, (a, _) = make_runtime(pinger=Pinger()), desks
    assert await runtime.queue.enqueue("wk_ping", a.slug, "hello", job_id=f"wk_ping:{a.slug}:1")

    await drain(runtime)

    assert ran == [(a.slug, a.slug, "hello")]
    crons = {c.name for c in worker_settings(runtime)["cron_jobs"]}
    queue = runtime.settings.queue_name
    assert {f"cron:{queue}:sweep_outbox", f"cron:{queue}:wk_tick"} <= crons
    # Core plugins' schedules (pruning expired idempotency keys) run the same way.
    assert f"cron:{queue}:prune_idempotency_keys" in crons


async def test_a_failed_jobs_exception_is_kept_as_its_json_result(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    @tenant_job
    async def broken(ctx: dict[str, Any], tenant: TenantContext) -> None:
        raise ValueError(f"bug in {tenant.slug}")

    class Broken:
        @hookimpl
        def propdesk_register_jobs(self) -> list[JobDefinition]:
            return [JobDefinition("wk_broken", broken)]

    runtime, (a, _) = make_runtime(broken=Broken()), desks
    job_id = f"wk_broken:{a.slug}:1"
    assert await runtime.queue.enqueue("wk_broken", a.slug, job_id=job_id)

    worker = await asyncio.wait_for(
        run_worker(runtime, burst=True, handle_signals=False, poll_delay=0.01), 30
    )

    assert worker.jobs_failed == 1
    result = await Job(job_id, await runtime.queue.redis(), _deserializer=loads).result_info()
    assert result is not None and result.success is False
    assert result.result == {"error": "ValueError", "message": f"bug in {a.slug}"}


# -- the command ---------------------------------------------------------------------------------


async def test_propdesk_worker_burst_dispatches_and_exits(
    make_runtime: MakeRuntime, desks: tuple[TenantContext, TenantContext]
) -> None:
    runtime, (_, b) = make_runtime(), desks  # no subscriber in this process: dispatch marks done
    event = await emit_one(runtime, b)
    env = {
        **os.environ,
        "PROPDESK_DATABASE_URL": runtime.db.url,
        "PROPDESK_REDIS_URL": runtime.redis_url,
        "PROPDESK_QUEUE_NAME": runtime.settings.queue_name,
        "PROPDESK_LOG_FORMAT": "console",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "propdesk",
        "worker",
        "--burst",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, output.decode()
    assert "job(s) done" in output.decode()
    row = await outbox_row(runtime, b, event)
    assert row is not None and row.dispatched_at is not None
