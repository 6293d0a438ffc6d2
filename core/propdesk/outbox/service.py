"""Writing events into the outbox with the change, and delivering them to plugins after commit.

``emit`` adds the outbox row to the caller's transaction and, once it commits, queues
``dispatch_event`` under a deterministic job id. Redis is only the trigger: if the enqueue fails
or Redis loses the job, the worker's outbox sweep queues the event again from PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.db.engine import after_commit
from propdesk.outbox.events import DomainEvent
from propdesk.outbox.models import OutboxDelivery, OutboxEvent
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import SCHEMA_PREFIX

if TYPE_CHECKING:
    from propdesk.runtime import Runtime
    from propdesk.worker.queue import JobQueue

log = structlog.get_logger(__name__)

DISPATCH_JOB = "dispatch_event"
#: Longest error text kept in ``outbox.last_error``.
_ERROR_CHARS = 2000


def dispatch_job_id(tenant: str, event_id: uuid.UUID | str) -> str:
    """The one job id of an event's dispatch: queuing it twice creates one job."""
    return f"{DISPATCH_JOB}:{tenant}:{event_id}"


def session_tenant(session: AsyncSession) -> str:
    """The slug of the tenant schema ``session`` is bound to (never guessed from a ContextVar)."""
    options = session.sync_session.get_bind().get_execution_options()
    schema = (options.get("schema_translate_map") or {}).get(None)
    if not schema or not schema.startswith(SCHEMA_PREFIX):
        raise ValueError("events belong to a desk: emit them through a tenant session")
    return str(schema[len(SCHEMA_PREFIX) :])


def emit(
    session: AsyncSession, queue: JobQueue | None, name: str, payload: Mapping[str, Any]
) -> DomainEvent:
    """Record event ``name`` in the transaction of ``session`` (a tenant session).

    The row commits or rolls back with the change. After commit the dispatch job is queued;
    a failed enqueue is logged and left to the outbox sweep. With ``queue=None`` nothing is
    queued: the caller dispatches the event itself right after its commit (the engine does, to
    act on a breach within milliseconds) and the sweep is the backstop. ``payload`` holds JSON
    values only (Decimals as strings).
    """
    tenant = session_tenant(session)
    try:
        json.dumps(payload)
    except TypeError as exc:
        raise TypeError(f"event {name!r}: payload must hold JSON values only ({exc})") from exc
    event = DomainEvent(name, dict(payload))
    session.add(
        OutboxEvent(
            event_id=event.event_id, name=name, payload=event.payload, occurred_at=event.occurred_at
        )
    )

    if queue is not None:
        bound = queue

        async def enqueue() -> None:
            await enqueue_dispatch(bound, tenant, event.event_id)

        after_commit(session, enqueue)
    return event


async def enqueue_dispatch(queue: JobQueue, tenant: str, event_id: uuid.UUID | str) -> bool:
    """Queue the event's dispatch; never raises (the sweep retries). True if newly queued."""
    try:
        return await queue.enqueue(
            DISPATCH_JOB, tenant, str(event_id), job_id=dispatch_job_id(tenant, event_id)
        )
    except Exception as exc:
        log.warning("outbox.enqueue_failed", tenant=tenant, event_id=str(event_id), error=repr(exc))
        return False


@dataclass
class DispatchOutcome:
    """What one dispatch attempt did. ``failed`` maps plugin names to their error."""

    status: str  # "dispatched", "already dispatched", "missing", "failed"
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    attempts: int = 0


async def dispatch(
    runtime: Runtime,
    tenant: TenantContext,
    event_id: uuid.UUID,
    *,
    fresh: DomainEvent | None = None,
) -> DispatchOutcome:
    """Deliver one event to every subscriber that has not handled it yet.

    Each success is recorded in its own short transaction, so a plugin is not called again once
    it succeeded. The event is marked dispatched when every subscriber has it; otherwise its
    ``attempts`` and ``last_error`` are updated and the outcome says which plugins failed.
    ``fresh`` is the event itself, when the caller has just committed it and dispatches it
    first (nobody has handled it yet, so nothing is read back).
    """
    db, host = runtime.db, runtime.host
    if fresh is not None:
        event, done = replace(fresh, first_delivery=True), set()
    else:
        async with db.session(tenant) as session:
            row = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id))
            if row is None:
                log.warning("outbox.event_missing", event_id=str(event_id))
                return DispatchOutcome("missing")
            if row.dispatched_at is not None:
                return DispatchOutcome("already dispatched")
            done = set(
                await session.scalars(
                    select(OutboxDelivery.plugin).where(OutboxDelivery.event_id == event_id)
                )
            )
        event = DomainEvent(row.name, row.payload, row.event_id, row.occurred_at)
    outcome = DispatchOutcome("dispatched")
    for plugin in host.event_subscribers(tenant):
        if plugin in done:
            continue
        try:
            await host.deliver_event(plugin, tenant, event, runtime)
        except Exception as exc:
            log.warning(
                "outbox.delivery_failed", plugin=plugin, event_name=event.name, exc_info=True
            )
            outcome.failed[plugin] = f"{type(exc).__name__}: {exc}"
            continue
        async with db.unit_of_work(tenant) as session:
            await session.execute(
                insert(OutboxDelivery)
                .values(event_id=event_id, plugin=plugin)
                .on_conflict_do_nothing()
            )
        outcome.delivered.append(plugin)
    async with db.unit_of_work(tenant) as session:
        pending = OutboxEvent.event_id == event_id
        if outcome.failed:
            outcome.status = "failed"
            error = "; ".join(f"{p}: {e}" for p, e in outcome.failed.items())[:_ERROR_CHARS]
            outcome.attempts = (
                await session.scalar(
                    update(OutboxEvent)
                    .where(pending)
                    .values(attempts=OutboxEvent.attempts + 1, last_error=error)
                    .returning(OutboxEvent.attempts)
                )
                or 0
            )
        else:
            await session.execute(
                update(OutboxEvent)
                .where(pending, OutboxEvent.dispatched_at.is_(None))
                .values(dispatched_at=func.now(), last_error=None)
            )
    return outcome


async def undispatched(
    runtime: Runtime, tenant: TenantContext, *, min_age: timedelta, limit: int = 500
) -> list[uuid.UUID]:
    """Events of ``tenant`` not yet dispatched and older than ``min_age``, oldest first."""
    cutoff = datetime.now(UTC) - min_age
    async with runtime.db.session(tenant) as session:
        rows = await session.scalars(
            select(OutboxEvent.event_id)
            .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.occurred_at <= cutoff)
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
        return list(rows)
