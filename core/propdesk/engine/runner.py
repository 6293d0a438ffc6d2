"""The engine loop: nudges in, micro-batches evaluated in memory, decisions committed first.

One engine runs per shard, inside a worker process that holds the shard's lease in Redis (a
second worker waits and takes over when the first dies). Each turn of the loop reads the nudges
that arrived (waiting a few milliseconds at most) and evaluates them. Accounts that decided
something are committed at once (their journal rows, verdicts and the lifecycle transitions
they cause, in one transaction) and acted on right after (dispatched in process, the outbox
sweep as the backstop). Everything else (account state, trading days, snapshots) joins the
desk's backlog, which a task writes in slices every ``flush_seconds`` while the loop goes on;
every write of a desk takes its lock, so an account's rows reach the database in order. A
crash loses nothing: what was not committed is evaluated again from the journal, and what was
committed is never decided twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import pickle
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from propdesk.catalogue.families import rule_families
from propdesk.engine import store
from propdesk.engine.desk import Batch, Desk, Slot
from propdesk.engine.live import LiveAccount
from propdesk.engine.stream import EngineStream, Nudge
from propdesk.engine.writes import DeskWrites
from propdesk.rules.clock import utc
from propdesk.rules.events import canonical, canonical_json, parse_event, parse_time
from propdesk.tenancy.directory import load_tenant, load_tenants

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)


#: Accounts loaded per round trip when they come into memory.
LOAD_CHUNK = 5_000
#: A load of this many accounts or more moves what is in memory out of the collector's sight.
FREEZE_AFTER = 1_000


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
    #: Accounts that decided nothing are written when their backlog is this old, or this big.
    flush_seconds: float = 0.2
    flush_accounts: int = 20_000
    #: How often to look for journalled events a lost nudge left unevaluated, and how old
    #: such events must be (younger ones may still be on their way).
    scout_seconds: float = 10.0
    settle_seconds: float = 5.0
    lease_ms: int = 3_000
    #: How often the poller looks for desks due a poll (0: no polling in this engine).
    poll_tick_seconds: float = 0.25
    #: Serve only these desks (``None``: every active desk), e.g. a dedicated engine.
    desks: frozenset[str] | None = None


@dataclass
class Scouted:
    """What the scout found for a desk since the last sweep."""

    #: Accounts with journalled events past their persisted evaluation: their last seq.
    pending: dict[int, int] = field(default_factory=dict)
    #: Accounts with a due instant that has come.
    due: set[int] = field(default_factory=set)

    def merge(self, other: Scouted) -> None:
        self.pending.update(other.pending)
        self.due |= other.due


def operator_body(live: LiveAccount, fields: dict[str, Any]) -> bytes:
    """The canonical operator event, at the action's time or the account's, whichever is later
    (the journal's time never goes back)."""
    at = parse_time(fields["at"])
    if live.until is not None and live.until > at:
        at = live.until
    data = {k: v for k, v in fields.items() if k != "at"}
    event = parse_event({"type": "operator", "time": utc(at), **data})
    return canonical_json(canonical(event)).encode()


class Engine(DeskWrites):
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
        self._scouted: dict[str, Scouted] = {}
        #: Set once the engine holds its lease and has caught up with the journal.
        self.ready = asyncio.Event()

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
            await self.flush(due_only=False)
            self.ready.set()
            if self.config.poll_tick_seconds and self.config.shard == 0:
                self._track(asyncio.create_task(self._poll(stop), name="propdesk-poller"))
            self._track(asyncio.create_task(self._scout(stop), name="propdesk-scout"))
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
                    await self.flush()
                if now >= next_sweep:
                    next_sweep = now + self.config.sweep_seconds
                    await self.sweep()
                if now >= next_lease:
                    next_lease = now + self.config.lease_ms / 3000
                    if not await self._take_lease():
                        log.warning("engine.lease_lost", shard=self.config.shard)
                        return
            await self.flush(due_only=False)
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
            if task.get_name() in ("propdesk-poller", "propdesk-scout"):
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
            if self.config.desks is not None and slug not in self.config.desks:
                return None
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
        if len(missing) >= FREEZE_AFTER:
            # Accounts live as long as the engine: keep the collector from walking them all
            # again and again (a full collection over 100,000 accounts stalls for a second).
            gc.freeze()

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
        if reload:
            # What they evaluated goes to the database first: the reload reads it back.
            await self.write_now(desk, reload)
            desk.forget(reload)
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
        gapped = [
            slot
            for account_id in desk.gapped & events.keys()
            if (slot := desk.slots.get(account_id)) is not None and slot.pending
        ]
        if gapped:
            await self._fill_gaps(desk, batch, gapped)
        await self.commit(desk, batch)

    async def _fill_gaps(self, desk: Desk, batch: Batch, slots: list[Slot]) -> None:
        """Events held behind a gap, or journalled while their nudge was lost: read them back."""
        if not slots:
            return
        async with self.runtime.db.session(desk.tenant) as session:
            found = await store.journals(
                session,
                desk.schema,
                {slot.live.account_id: store.Position(slot.live.seq, None) for slot in slots},
            )
        for account_id, journal in found.items():
            for entry in journal.entries:
                desk.offer(batch, account_id, entry.seq, entry.body)

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
                if desk.held(slot) or slot.pending or slot.broken is not None:
                    # Stale data, or events known to be missing before this instant: decide
                    # when they arrive (an event replans the account), never on a guess.
                    continue
                desk.engine_event(batch, slot, "clock", slot.live.clock_body(at), at, None)
            try:
                await self.commit(desk, batch)
            except Exception:
                log.exception("engine.tick_failed", tenant=desk.tenant.slug)

    async def sweep(self, *, initial: bool = False) -> None:
        """What nudges may have missed (journalled events, dues of accounts not in memory, as
        the scout found them; on the first sweep, found now), gaps that timed out, stale feeds."""
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
                if initial:
                    found: Scouted | None = await self._scout_desk(desk, pending=True, initial=True)
                else:
                    found = self._scouted.pop(desk.tenant.slug, None)
                await self._sweep_desk(desk, found or Scouted())
            except Exception:
                log.exception("engine.sweep_failed", tenant=tenant.slug)

    async def _scout(self, stop: asyncio.Event) -> None:
        """Look in the database for work nudges did not announce, away from the loop's turns
        (a scan over every account of a big desk takes a while)."""
        next_pending = time.monotonic() + self.config.scout_seconds
        while not stop.is_set() and self.leased:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.sweep_seconds)
            pending = time.monotonic() >= next_pending
            if pending:
                next_pending = time.monotonic() + self.config.scout_seconds
            for desk in list(self.desks.values()):
                try:
                    found = await self._scout_desk(desk, pending=pending)
                except Exception:
                    log.exception("engine.scout_failed", tenant=desk.tenant.slug)
                    continue
                self._scouted.setdefault(desk.tenant.slug, Scouted()).merge(found)

    async def _scout_desk(self, desk: Desk, *, pending: bool, initial: bool = False) -> Scouted:
        now = datetime.now(UTC)
        settled = None if initial else now - timedelta(seconds=self.config.settle_seconds)
        async with self.runtime.db.session(desk.tenant) as session:
            behind = await store.pending_accounts(session, desk.schema, settled) if pending else {}
            due = await store.due_accounts(session, desk.schema, now)
        return Scouted(behind, {i for i in due if i not in desk.slots})

    async def _sweep_desk(self, desk: Desk, found: Scouted) -> None:
        from propdesk.engine.stale import mark_stale

        await self.load(desk, {i for i in [*found.pending, *found.due] if i not in desk.slots})
        # Loading stops where the evaluation persisted; what follows is evaluated afresh.
        behind = [
            slot
            for i, last in found.pending.items()
            if (slot := desk.slots.get(i)) is not None and slot.live.seq < last
        ]
        batch = Batch()
        await self._fill_gaps(desk, batch, behind)
        for slot in desk.gaps_timed_out():
            desk.skip_gap(batch, slot)
        await self.commit(desk, batch)
        now = time.monotonic()
        if now >= desk.next_stale_check:
            desk.next_stale_check = now + desk.stale_check_seconds
            await mark_stale(self.runtime, desk)
