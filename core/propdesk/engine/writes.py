"""How the engine writes a desk: decisions at once, the rest in slices by a background task.

Accounts that decided something are written as soon as their batch is evaluated (verdicts,
lifecycle transitions, journal rows) and their decisions dispatched in process; their state and
every other account's join the desk's backlog. A task writes the backlog a slice at a time once
it is ``flush_seconds`` old. Every write takes the desk's lock, and a decision takes its
account's older rows out of a flush under way first, so an account's rows reach the database in
order.
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from propdesk.engine import store
from propdesk.engine.desk import Batch, Desk, Slot
from propdesk.engine.verdicts import record_verdicts
from propdesk.outbox.service import dispatch

if TYPE_CHECKING:
    from propdesk.engine.runner import EngineConfig
    from propdesk.outbox.events import DomainEvent
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)

#: Accounts per transaction when a backlog is written.
FLUSH_SLICE = 100
#: Rows built between two turns given to other tasks (dispatches) while writing a backlog.
ROWS_PER_SLICE = 250


class DeskWrites:
    """The engine's writes (mixed into ``Engine``)."""

    runtime: Runtime
    config: EngineConfig
    desks: dict[str, Desk]
    #: Keeps a task referenced until it is done (the engine's).
    _track: Callable[[asyncio.Task[Any]], None]

    async def commit(self, desk: Desk, batch: Batch, *, flush: bool = False) -> None:
        """Write what ``batch`` evaluated. Accounts that decided something are written (and
        their decisions acted on) at once; the others join the desk's backlog, which a task
        writes once it is ``flush_seconds`` old (or now, with ``flush``) while the loop goes on.
        Until then a crash only means evaluating those events again: they decided nothing, and
        the journal holds them."""
        desk.backlog.merge(batch)
        decisive = {verdict.account_id for verdict in desk.backlog.verdicts}
        if decisive:
            await self.write_now(desk, decisive, decisions=True)
        backlog = desk.backlog
        if backlog and (
            flush
            or len(backlog.changed) >= self.config.flush_accounts
            or time.monotonic() - (backlog.since or 0) >= self.config.flush_seconds
        ):
            self._start_flush(desk)

    async def write_now(self, desk: Desk, ids: set[int], *, decisions: bool = False) -> None:
        """Write the accounts ``ids`` now, with what of theirs waits in a flush under way (it
        is older, so it goes first: an account's journal rows stay in order). For
        ``decisions``, their state rows stay in the backlog: the verdicts and the journal are
        what must not wait (after a crash the account is evaluated again up to its verdict,
        which is already recorded and not taken twice)."""
        async with desk.write_lock:
            taken = desk.flushing.take(ids) if desk.flushing is not None else Batch()
            taken.merge(desk.backlog.take(ids))
            if decisions and taken.changed:
                states = Batch(changed=taken.changed)
                taken.changed = {}
                desk.backlog.merge(states)
            await self._write(desk, taken)

    def _start_flush(self, desk: Desk) -> None:
        if desk.flusher is None or desk.flusher.done():
            desk.flushing = desk.backlog.take()
            desk.flusher = asyncio.create_task(self._flush(desk), name="propdesk-flush")
            self._track(desk.flusher)

    async def _flush(self, desk: Desk) -> None:
        """Write the desk's flushing batch a slice at a time, each slice its own transaction, so
        that decisions never wait long for the lock."""
        flushing = desk.flushing
        while flushing:
            async with desk.write_lock:
                if len(flushing.changed) > FLUSH_SLICE:
                    part = flushing.take(set(itertools.islice(flushing.changed, FLUSH_SLICE)))
                else:
                    part = flushing.take()
                try:
                    await self._write(desk, part)
                except Exception:
                    log.exception("engine.flush_failed", tenant=desk.tenant.slug)
        desk.flushing = None

    async def flush(self, *, due_only: bool = True) -> None:
        """Write the desks' backlogs: those old enough, or (``due_only`` false) all, waiting
        until they are written."""
        for desk in list(self.desks.values()):
            try:
                await self.commit(desk, Batch(), flush=not due_only)
                if not due_only:
                    while desk.flusher is not None and not desk.flusher.done():
                        await desk.flusher
                        if desk.backlog:
                            self._start_flush(desk)
            except Exception:
                log.exception("engine.flush_failed", tenant=desk.tenant.slug)

    async def _write(self, desk: Desk, batch: Batch) -> None:
        slots = list(batch.changed.values())
        schema = desk.schema
        states, days = await self._rows(desk, slots)
        try:
            async with self.runtime.db.unit_of_work(desk.tenant) as session:
                await store.write_states(session, schema, states)
                await store.write_days(session, schema, days)
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
            # Memory ran ahead of the database: forget those accounts (and what of theirs waits
            # to be written), reload them later.
            desk.forget(batch.accounts())
            raise
        for slot in slots:
            if slot.since_snapshot >= self.config.snapshot_every:
                slot.since_snapshot = 0
        for event in events:
            self._dispatch(desk, event)

    @staticmethod
    async def _rows(
        desk: Desk, slots: list[Slot]
    ) -> tuple[list[store.StateRow], list[store.DayRow]]:
        """The rows of ``slots``, built a slice at a time: between slices the decisions already
        committed get on with their actions (this is the engine's longest stretch of work)."""
        states: list[store.StateRow] = []
        days: list[store.DayRow] = []
        for start in range(0, len(slots), ROWS_PER_SLICE):
            await asyncio.sleep(0)
            for slot in slots[start : start + ROWS_PER_SLICE]:
                states.append(desk.state_row(slot))
                if (day := desk.day_row(slot)) is not None:
                    days.append(day)
        return states, days

    async def _alerts(self, session: Any, desk: Desk, batch: Batch) -> None:
        late = [
            (
                account_id,
                f"event seq {seq} arrived after the engine had given up on it; it is "
                "kept in the journal but was not evaluated",
            )
            for account_id, seq in batch.late
        ]
        gaps = [
            (
                account_id,
                f"events {missing[0]} to {missing[-1]} never arrived; "
                "evaluation went on without them",
            )
            for account_id, missing in batch.gaps
        ]
        await store.open_alerts(session, desk.schema, "late", late)
        await store.open_alerts(session, desk.schema, "gap", gaps)
        await store.open_alerts(session, desk.schema, "bad_event", batch.broken)
        await store.close_alerts(session, desk.schema, batch.fresh, "stale")

    def _dispatch(self, desk: Desk, event: DomainEvent) -> None:
        """Act on a decision now, in this process (the outbox sweep is the backstop)."""

        async def run() -> None:
            try:
                await dispatch(self.runtime, desk.tenant, event.event_id, fresh=event)
            except Exception:
                log.exception("engine.dispatch_failed", event_id=str(event.event_id))

        self._track(asyncio.create_task(run()))
