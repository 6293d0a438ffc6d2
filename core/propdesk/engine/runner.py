"""The engine loop: nudges in, micro-batches evaluated in memory, one commit per desk per batch.

One engine runs per shard, inside a worker process that holds the shard's lease in Redis (a
second worker waits and takes over when the first dies). Each turn of the loop reads the nudges
that arrived (waiting a few milliseconds at most), evaluates them, and commits per desk: account
state, trading days, the engine's own events, verdicts and the lifecycle transitions they
cause, all in one transaction. Only then are the decisions acted on (dispatched in process,
with the outbox sweep as the backstop). A crash loses nothing: what was not committed is
evaluated again from the journal, and what was committed is never decided twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from propdesk.catalogue.families import rule_families
from propdesk.engine import store
from propdesk.engine.desk import Batch, Desk, Slot
from propdesk.engine.live import LiveAccount
from propdesk.engine.stream import EngineStream, Nudge
from propdesk.engine.verdicts import record_verdicts
from propdesk.outbox.service import dispatch
from propdesk.rules.clock import utc
from propdesk.rules.events import canonical, canonical_json, parse_event, parse_time
from propdesk.tenancy.directory import load_tenant, load_tenants

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)


#: Accounts loaded per round trip when they come into memory.
LOAD_CHUNK = 5_000


@dataclass(frozen=True)
class EngineConfig:
    shard: int = 0
    shards: int = 1
    #: Longest wait for nudges in one turn: the floor of the breach latency when idle.
    read_block_ms: int = 5
    #: Nudges read per turn at most (each carries a delivery's events).
    read_count: int = 500
    tick_seconds: float = 0.1
    sweep_seconds: float = 2.0
    #: Take a snapshot of an account after this many events since its last one.
    snapshot_every: int = 1_000
    lease_ms: int = 3_000
    #: How often the poller looks for desks due a poll (0: no polling in this engine).
    poll_tick_seconds: float = 0.25


def operator_body(live: LiveAccount, fields: dict[str, Any]) -> bytes:
    """The canonical operator event, at the action's time or the account's, whichever is later
    (the journal's time never goes back)."""
    at = parse_time(fields["at"])
    if live.until is not None and live.until > at:
        at = live.until
    data = {k: v for k, v in fields.items() if k != "at"}
    event = parse_event({"type": "operator", "time": utc(at), **data})
    return canonical_json(canonical(event)).encode()


class Engine:
    """``await Engine(runtime).run(stop)`` evaluates until ``stop`` is set."""

    def __init__(self, runtime: Runtime, config: EngineConfig | None = None) -> None:
        self.runtime = runtime
        self.config = config or EngineConfig()
        self.stream = EngineStream(
            runtime.redis_url, runtime.settings.queue_name, self.config.shards
        )
        self.desks: dict[str, Desk] = {}
        self.owner = uuid.uuid4().hex
        self.leased = False
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Called with ``(account_id, event_id)`` once a decision's event was dispatched
        #: (its actions taken); benchmarks measure latency with it.
        self.on_dispatched: list[Callable[[int, uuid.UUID], None]] = []

    # -- the loop -----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set() and not await self._take_lease():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.lease_ms / 3000)
            if stop.is_set():
                return
            log.info("engine.started", shard=self.config.shard, owner=self.owner)
            after = await self.stream.last_id(self.config.shard)
            await self.sweep(initial=True)
            if self.config.poll_tick_seconds and self.config.shard == 0:
                self._track(asyncio.create_task(self._poll(stop), name="propdesk-poller"))
            next_tick = next_sweep = next_lease = time.monotonic()
            while not stop.is_set():
                after, nudges = await self.stream.read(
                    self.config.shard,
                    after,
                    block_ms=self.config.read_block_ms,
                    count=self.config.read_count,
                )
                if nudges:
                    await self.handle(nudges)
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + self.config.tick_seconds
                    await self.tick()
                if now >= next_sweep:
                    next_sweep = now + self.config.sweep_seconds
                    await self.sweep()
                if now >= next_lease:
                    next_lease = now + self.config.lease_ms / 3000
                    if not await self._take_lease():
                        log.warning("engine.lease_lost", shard=self.config.shard)
                        return
        finally:
            await self._release()

    async def _poll(self, stop: asyncio.Event) -> None:
        """Poll the platforms of every desk that wants it, while this engine holds its lease."""
        from propdesk.engine.poller import poll_desk

        last: dict[str, float] = {}
        while not stop.is_set() and self.leased:
            for desk in list(self.desks.values()):
                slug = desk.tenant.slug
                if (
                    not desk.poll_seconds
                    or time.monotonic() - last.get(slug, 0) < desk.poll_seconds
                ):
                    continue
                last[slug] = time.monotonic()
                try:
                    await poll_desk(self.runtime, desk.tenant)
                except Exception:
                    log.exception("engine.poll_failed", tenant=slug)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.poll_tick_seconds)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            if task.get_name() == "propdesk-poller":
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stream.close()

    def _lease_key(self) -> str:
        return f"{self.runtime.settings.queue_name}:engine-lease:{self.config.shard}"

    async def _take_lease(self) -> bool:
        redis, key = self.stream.redis, self._lease_key()
        if await redis.set(key, self.owner, nx=True, px=self.config.lease_ms):
            self.leased = True
            return True
        holder = await redis.get(key)
        self.leased = holder is not None and holder.decode() == self.owner
        if self.leased:
            await redis.pexpire(key, self.config.lease_ms)
        return self.leased

    async def _release(self) -> None:
        self.leased = False
        with contextlib.suppress(Exception):
            redis, key = self.stream.redis, self._lease_key()
            holder = await redis.get(key)
            if holder is not None and holder.decode() == self.owner:
                await redis.delete(key)

    # -- desks and accounts -------------------------------------------------------------------
    async def desk(self, slug: str) -> Desk | None:
        desk = self.desks.get(slug)
        if desk is None:
            async with self.runtime.db.session() as session:
                tenant = await load_tenant(session, slug)
            if tenant is None or tenant.status != "active":
                return None
            families = rule_families(self.runtime.host, tenant)
            desk = self.desks[slug] = Desk(tenant, dict(families))
        return desk

    async def load(self, desk: Desk, ids: set[int]) -> None:
        """Bring accounts into memory: latest snapshot plus the evaluated journal after it."""
        missing = sorted(i for i in ids if i not in desk.slots)
        for start in range(0, len(missing), LOAD_CHUNK):
            chunk = missing[start : start + LOAD_CHUNK]
            async with self.runtime.db.session(desk.tenant) as session:
                rows = await store.load_accounts(session, desk.schema, chunk)
                lives: dict[int, tuple[store.AccountRow, LiveAccount, int]] = {}
                for row in rows:
                    lives[row.account_id] = (row, *await self._start(session, desk, row))
                found = await store.journals(
                    session,
                    desk.schema,
                    {
                        i: store.Position(live.seq, count, row.evaluated_seq)
                        for i, (row, live, count) in lives.items()
                    },
                )
            for account_id, (row, live, _count) in lives.items():
                journal = found[account_id]
                for entry in journal.entries:
                    if entry.engine_id:
                        live.apply_engine_event(entry.body)
                    else:
                        live.apply(entry.seq, entry.body)
                slot = Slot(live, row.challenge_id, row.initial_balance)
                slot.engine_count = journal.engine_total
                slot.skipped = journal.skipped
                slot.operator_sources = journal.sources
                slot.snapshot_received_at = time.monotonic()
                desk.slots[account_id] = slot
                desk._plan(slot)

    async def _start(
        self, session: Any, desk: Desk, row: store.AccountRow
    ) -> tuple[LiveAccount, int]:
        """The account's latest snapshot, or a new evaluation: and the engine events in it."""
        if row.snapshot is not None:
            # Our own pickles, read back from the desk's schema (never from outside).
            return pickle.loads(row.snapshot), row.snapshot_engine_count  # noqa: S301
        product = desk.products.get(row.version_hash)
        if product is None:
            product = await store.product_content(session, desk.schema, row.version_hash)
            desk.products[row.version_hash] = product
        live = LiveAccount.open(
            row.account_id, product, row.phase_code, row.size, row.addons, desk.families
        )
        return live, 0

    # -- one turn -----------------------------------------------------------------------------
    async def handle(self, nudges: list[Nudge]) -> None:
        by_desk: dict[str, list[Nudge]] = {}
        for nudge in nudges:
            by_desk.setdefault(nudge.tenant, []).append(nudge)
        for slug, items in by_desk.items():
            desk = await self.desk(slug)
            if desk is None:
                continue
            try:
                await self._handle_desk(desk, items)
            except Exception:
                log.exception("engine.batch_failed", tenant=slug)

    async def _handle_desk(self, desk: Desk, nudges: list[Nudge]) -> None:
        reload = {account_id for n in nudges for account_id in n.reload}
        for account_id in reload:
            desk.slots.pop(account_id, None)
        events: dict[int, list[tuple[int, bytes]]] = {}
        for nudge in nudges:
            for account_id, seq, text_body in nudge.events:
                events.setdefault(account_id, []).append((seq, text_body.encode()))
        wanted = set(events) | {o[0] for n in nudges for o in n.operator} | reload
        await self.load(desk, wanted)
        batch = Batch()
        for account_id, items in events.items():
            if account_id not in desk.slots:
                continue
            for seq, raw in sorted(items):
                desk.offer(batch, account_id, seq, raw)
        for nudge in nudges:
            for account_id, source, fields in nudge.operator:
                slot = desk.slots.get(account_id)
                if slot is not None and source not in slot.operator_sources:
                    made = operator_body(slot.live, json.loads(fields))
                    slot.operator_sources.add(source)
                    desk.engine_event(batch, slot, "operator", made, datetime.now(UTC), source)
        gapped = [s for s in desk.slots.values() if s.pending and s.live.account_id in events]
        if gapped:
            await self._fill_gaps(desk, batch, gapped)
        await self.commit(desk, batch)

    async def _fill_gaps(self, desk: Desk, batch: Batch, slots: list[Slot]) -> None:
        """Events held behind a gap: the missing ones may be journalled by another delivery."""
        async with self.runtime.db.session(desk.tenant) as session:
            for slot in slots:
                journal = await store.journal(
                    session,
                    desk.schema,
                    slot.live.account_id,
                    store.Position(slot.live.seq, None),
                )
                for entry in journal.entries:
                    desk.offer(batch, slot.live.account_id, entry.seq, entry.body)

    async def commit(self, desk: Desk, batch: Batch) -> None:
        if not batch:
            return
        slots = list(batch.changed.values())
        schema = desk.schema
        try:
            async with self.runtime.db.unit_of_work(desk.tenant) as session:
                await store.write_states(session, schema, [desk.state_row(s) for s in slots])
                await store.write_days(
                    session, schema, [row for s in slots if (row := desk.day_row(s)) is not None]
                )
                await store.write_engine_events(session, schema, batch.engine_events)
                events = await record_verdicts(session, batch.verdicts)
                snapshots = [
                    (s.live.account_id, s.live.seq, s.engine_count, pickle.dumps(s.live, 5))
                    for s in slots
                    if s.since_snapshot >= self.config.snapshot_every
                ]
                await store.write_snapshots(session, schema, snapshots)
                await self._alerts(session, desk, batch)
        except Exception:
            # Memory ran ahead of the database: forget those accounts, reload them later.
            for slot in slots:
                desk.slots.pop(slot.live.account_id, None)
            raise
        for slot in slots:
            if slot.since_snapshot >= self.config.snapshot_every:
                slot.since_snapshot = 0
        for account_id, event_id in events:
            self._dispatch(desk, account_id, event_id)

    async def _alerts(self, session: Any, desk: Desk, batch: Batch) -> None:
        for account_id, seq in batch.late:
            await store.open_alert(
                session,
                desk.schema,
                account_id,
                "late",
                f"event seq {seq} arrived after the engine had given up on it; it is kept in "
                "the journal but was not evaluated",
            )
        for account_id, missing in batch.gaps:
            await store.open_alert(
                session,
                desk.schema,
                account_id,
                "gap",
                f"events {missing[0]} to {missing[-1]} never arrived; "
                "evaluation went on without them",
            )
        await store.close_alerts(session, desk.schema, batch.fresh, "stale")

    def _dispatch(self, desk: Desk, account_id: int, event_id: uuid.UUID) -> None:
        async def run() -> None:
            try:
                await dispatch(self.runtime, desk.tenant, event_id)
            except Exception:
                log.exception("engine.dispatch_failed", event_id=str(event_id))
            for callback in self.on_dispatched:
                callback(account_id, event_id)

        self._track(asyncio.create_task(run()))

    # -- time ---------------------------------------------------------------------------------
    async def tick(self) -> None:
        """Run the dues that have come: day boundaries, deadlines, reset instants."""
        now = datetime.now(UTC)
        for desk in list(self.desks.values()):
            due = desk.due(now)
            if not due:
                continue
            batch = Batch()
            for at, slot in due:
                if desk.held(slot) or slot.pending:
                    # Stale data, or events known to be missing before this instant: decide
                    # when they arrive (an event replans the account), never on a guess.
                    continue
                desk.engine_event(batch, slot, "clock", slot.live.clock_body(at), at, None)
            try:
                await self.commit(desk, batch)
            except Exception:
                log.exception("engine.tick_failed", tenant=desk.tenant.slug)

    async def sweep(self, *, initial: bool = False) -> None:
        """What nudges may have missed: journalled events, dues of accounts not in memory,
        stale feeds and gaps that timed out."""
        async with self.runtime.db.session() as session:
            tenants = await load_tenants(session)
        for tenant in tenants:
            if tenant.status != "active":
                self.desks.pop(tenant.slug, None)
                continue
            desk = await self.desk(tenant.slug)
            if desk is None:
                continue
            try:
                await self._sweep_desk(desk)
            except Exception:
                log.exception("engine.sweep_failed", tenant=tenant.slug)

    async def _sweep_desk(self, desk: Desk) -> None:
        from propdesk.engine.stale import mark_stale

        async with self.runtime.db.session(desk.tenant) as session:
            pending = await store.pending_accounts(session, desk.schema)
            due = await store.due_accounts(session, desk.schema, datetime.now(UTC))
        ids = {i for i in pending + due if i not in desk.slots}
        await self.load(desk, ids)
        batch = Batch()
        if pending:
            await self._fill_gaps(desk, batch, [desk.slots[i] for i in pending if i in desk.slots])
        now = time.monotonic()
        for slot in list(desk.slots.values()):
            if slot.gap_since is not None and now - slot.gap_since > desk.gap_timeout:
                desk.skip_gap(batch, slot)
        await self.commit(desk, batch)
        await mark_stale(self.runtime, desk)
