"""One desk's accounts in the engine's memory, and what a batch did to them (no I/O here).

A ``Slot`` wraps an account's ``LiveAccount`` with the engine's bookkeeping: events that came
ahead of a gap wait in ``pending`` until the gap fills (or times out); decisions wait in the
batch until it commits. ``Batch`` collects what a commit writes; an account's rows always go
into the same commit.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import structlog

from propdesk.engine.live import Decision, LiveAccount
from propdesk.engine.store import DayRow, StateRow
from propdesk.rules.events import EventError
from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

#: Engine settings a desk may set in tenant.toml under ``[plugins."propdesk.engine"]``.
STALE_AFTER_SECONDS = 120
GAP_TIMEOUT_SECONDS = 30
POLL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision with the evidence to reproduce it, taken right after the deciding input."""

    account_id: int
    challenge_id: int
    decision: Decision
    version_hash: str
    input_sha256: str
    seq: int
    until: datetime
    verdict: dict[str, Any]


@dataclass(slots=True)
class Slot:
    live: LiveAccount
    challenge_id: int
    initial_balance: Decimal
    #: Engine events (clock, operator, skip) already in ``live``: the export's position.
    engine_count: int = 0
    pending: dict[int, bytes] = field(default_factory=dict)
    gap_since: float | None = None
    since_snapshot: int = 0
    received_at: datetime | None = None
    snapshot_received_at: float | None = None
    stale: bool = False
    skipped: set[int] = field(default_factory=set)
    #: Operator actions already evaluated (a repeated outbox delivery adds nothing).
    operator_sources: set[str] = field(default_factory=set)
    #: Why the account's evaluation stopped: an event in its journal it cannot take.
    broken: str | None = None


@dataclass
class Batch:
    """What one commit writes for a desk."""

    changed: dict[int, Slot] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    #: ``(account_id, after_seq, at, type, body, source)``.
    engine_events: list[tuple[int, int, datetime, str, str, str | None]] = field(
        default_factory=list
    )
    late: list[tuple[int, int]] = field(default_factory=list)
    gaps: list[tuple[int, list[int]]] = field(default_factory=list)
    fresh: list[int] = field(default_factory=list)
    #: ``(account_id, why)``: accounts whose evaluation stopped at an event it cannot take.
    broken: list[tuple[int, str]] = field(default_factory=list)

    #: When the oldest of what this batch holds was evaluated (``time.monotonic()``).
    since: float | None = None

    def __bool__(self) -> bool:
        return bool(self.changed or self.verdicts or self.engine_events or self.late or self.broken)

    def accounts(self) -> set[int]:
        """Every account this batch holds rows of."""
        return (
            set(self.changed)
            | {v.account_id for v in self.verdicts}
            | {row[0] for row in self.engine_events}
            | {row[0] for row in self.late}
            | {row[0] for row in self.gaps}
            | set(self.fresh)
            | {row[0] for row in self.broken}
        )

    def merge(self, other: Batch) -> None:
        """Add ``other`` after what this batch holds (an account's rows keep their order)."""
        if not other:
            return
        if self.since is None:
            self.since = other.since if other.since is not None else time.monotonic()
        self.changed.update(other.changed)
        self.verdicts += other.verdicts
        self.engine_events += other.engine_events
        self.late += other.late
        self.gaps += other.gaps
        self.fresh += other.fresh
        self.broken += other.broken

    def take(self, ids: set[int] | None = None) -> Batch:
        """Move out what concerns the accounts ``ids`` (all when ``None``) into a new batch:
        an account's rows are always written together."""
        if ids is None:
            taken, fresh = Batch(), Batch()
            for name in ("changed", "verdicts", "engine_events", "late", "gaps", "fresh", "broken"):
                setattr(taken, name, getattr(self, name))
                setattr(self, name, getattr(fresh, name))
            taken.since, self.since = self.since, None
            return taken
        taken = Batch(since=self.since)
        taken.changed = {i: slot for i, slot in self.changed.items() if i in ids}
        self.changed = {i: slot for i, slot in self.changed.items() if i not in ids}
        taken.verdicts, self.verdicts = _split(self.verdicts, ids, lambda v: v.account_id)
        taken.engine_events, self.engine_events = _split(self.engine_events, ids, _first)
        taken.late, self.late = _split(self.late, ids, _first)
        taken.gaps, self.gaps = _split(self.gaps, ids, _first)
        taken.fresh, self.fresh = _split(self.fresh, ids, lambda i: i)
        taken.broken, self.broken = _split(self.broken, ids, _first)
        if not self:
            self.since = None
        return taken


T = TypeVar("T")


def _first(row: tuple[Any, ...]) -> int:
    return int(row[0])


def _split(rows: list[T], ids: set[int], key: Callable[[T], int]) -> tuple[list[T], list[T]]:
    inside = [row for row in rows if key(row) in ids]
    return inside, [row for row in rows if key(row) not in ids]


class Desk:
    """The engine's view of one tenant: its accounts in memory and their next dues."""

    def __init__(self, tenant: TenantContext, families: dict[str, type]) -> None:
        self.tenant = tenant
        self.schema = tenant.schema
        self.families = families
        self.slots: dict[int, Slot] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self._dues: list[tuple[datetime, int]] = []
        #: Evaluated but not yet written: accounts whose batch decided nothing wait here a
        #: little, so that one statement writes many turns' worth.
        self.backlog = Batch()
        #: Accounts holding events behind a gap.
        self.gapped: set[int] = set()
        #: The backlog being written by ``flusher``, a slice at a time, under ``write_lock``
        #: (which every write of the desk takes, so an account's rows are written in order).
        self.flushing: Batch | None = None
        self.flusher: asyncio.Task[None] | None = None
        self.write_lock = asyncio.Lock()
        settings = tenant.settings_for("propdesk.engine")
        self.stale_after = float(settings.get("stale_after_seconds", STALE_AFTER_SECONDS))
        self.gap_timeout = float(settings.get("gap_timeout_seconds", GAP_TIMEOUT_SECONDS))
        self.poll_seconds = float(settings.get("poll_seconds", POLL_SECONDS))
        #: Stale feeds are looked for a few times per ``stale_after`` (a scan of every account).
        self.stale_check_seconds = max(1.0, min(self.stale_after / 4, 30.0))
        self.next_stale_check = 0.0

    def forget(self, ids: set[int]) -> None:
        """Drop accounts from memory with whatever of theirs waits to be written: they will be
        loaded again from what the database holds."""
        for account_id in ids:
            self.slots.pop(account_id, None)
        self.backlog.take(ids)
        if self.flushing is not None:
            self.flushing.take(ids)

    # -- evaluating ---------------------------------------------------------------------------
    def offer(self, batch: Batch, account_id: int, seq: int, body: bytes) -> None:
        """A journalled source event: evaluate it now, or hold it until the gap before it fills."""
        slot = self.slots[account_id]
        live = slot.live
        if slot.broken is not None:
            return  # journalled, never evaluated: see the account's bad_event alert
        if seq <= live.seq:
            if seq in slot.skipped:
                batch.late.append((account_id, seq))
            return  # already evaluated (a repeated nudge)
        if seq != live.seq + 1:
            slot.pending[seq] = body
            if slot.gap_since is None:
                slot.gap_since = time.monotonic()
                self.gapped.add(account_id)
            return
        self._apply(batch, slot, seq, body)
        while slot.broken is None and (following := slot.pending.pop(live.seq + 1, None)):
            self._apply(batch, slot, live.seq + 1, following)
        if not slot.pending or slot.broken is not None:
            slot.gap_since = None
            self.gapped.discard(account_id)

    def _apply(self, batch: Batch, slot: Slot, seq: int, body: bytes) -> None:
        live = slot.live
        before = live.last_snapshot_at
        try:
            decisions = live.apply(seq, body)
        except EventError as exc:
            self._quarantine(batch, slot, f"event seq {seq}", exc)
            return
        slot.since_snapshot += 1
        now = datetime.now(UTC)
        slot.received_at = now
        if live.last_snapshot_at != before:
            slot.snapshot_received_at = time.monotonic()
            if slot.stale:
                slot.stale = False
                batch.fresh.append(live.account_id)
        batch.changed[live.account_id] = slot
        self._decided(batch, slot, decisions)
        self._plan(slot)

    def engine_event(
        self, batch: Batch, slot: Slot, kind: str, body: bytes, at: datetime, source: str | None
    ) -> None:
        live = slot.live
        if slot.broken is not None:
            return
        try:
            decisions = live.apply_engine_event(body)
        except EventError as exc:
            self._quarantine(batch, slot, f"the engine's {kind} event", exc)
            return
        slot.engine_count += 1
        batch.engine_events.append((live.account_id, live.seq, at, kind, body.decode(), source))
        batch.changed[live.account_id] = slot
        self._decided(batch, slot, decisions)
        self._plan(slot)

    @staticmethod
    def _quarantine(batch: Batch, slot: Slot, what: str, exc: EventError) -> None:
        """Stop evaluating an account at an event it cannot take (a second ``account_opened``,
        a deal before the opening): say so, and let every other account carry on."""
        slot.broken = f"{what} cannot be evaluated: {exc.reason}"
        log.error("engine.account_quarantined", account_id=slot.live.account_id, why=slot.broken)
        batch.broken.append(
            (
                slot.live.account_id,
                f"{slot.broken}; the account is not evaluated past it until the journal is "
                "put right",
            )
        )

    def skip_gap(self, batch: Batch, slot: Slot) -> list[int]:
        """Give up on the missing seqs before the first held event; evaluate what waited."""
        live = slot.live
        first = min(slot.pending)
        missing = list(range(live.seq + 1, first))
        body = json.dumps({"seqs": missing})
        slot.skipped.update(missing)
        slot.engine_count += 1
        batch.engine_events.append(
            (live.account_id, live.seq, datetime.now(UTC), "skip", body, None)
        )
        batch.gaps.append((live.account_id, missing))
        self._apply(batch, slot, first, slot.pending.pop(first))
        while (following := slot.pending.pop(live.seq + 1, None)) is not None:
            self._apply(batch, slot, live.seq + 1, following)
        slot.gap_since = time.monotonic() if slot.pending else None
        if not slot.pending:
            self.gapped.discard(live.account_id)
        return missing

    def _decided(self, batch: Batch, slot: Slot, decisions: list[Decision]) -> None:
        live = slot.live
        for decision in decisions:
            batch.verdicts.append(
                Verdict(
                    live.account_id,
                    slot.challenge_id,
                    decision,
                    live.version_hash,
                    live.input_sha256(),
                    live.seq,
                    live.until or decision.at,
                    live.verdict(),
                )
            )

    # -- time ---------------------------------------------------------------------------------
    def _plan(self, slot: Slot) -> None:
        due = slot.live.next_due()
        if due is not None:
            heapq.heappush(self._dues, (due, slot.live.account_id))

    def plan_all(self) -> None:
        for slot in self.slots.values():
            self._plan(slot)

    def due(self, now: datetime) -> list[tuple[datetime, Slot]]:
        """Accounts whose next due instant has come, each once, with that instant."""
        found: dict[int, tuple[datetime, Slot]] = {}
        while self._dues and self._dues[0][0] <= now:
            at, account_id = heapq.heappop(self._dues)
            slot = self.slots.get(account_id)
            if slot is not None and slot.live.next_due() == at:
                found[account_id] = (at, slot)
        return list(found.values())

    def gaps_timed_out(self) -> list[Slot]:
        """Accounts that have waited ``gap_timeout`` for missing events."""
        now, found = time.monotonic(), []
        for account_id in list(self.gapped):
            slot = self.slots.get(account_id)
            if slot is None or slot.gap_since is None:
                self.gapped.discard(account_id)  # reloaded or filled since
            elif now - slot.gap_since > self.gap_timeout:
                found.append(slot)
        return found

    def held(self, slot: Slot) -> bool:
        """True while the account's data is stale: time-based rules wait for fresh data."""
        seen = slot.snapshot_received_at
        return seen is not None and time.monotonic() - seen > self.stale_after

    def hold(self, at: datetime, slot: Slot) -> None:
        heapq.heappush(self._dues, (at, slot.live.account_id))

    # -- persisting ---------------------------------------------------------------------------
    def state_row(self, slot: Slot) -> StateRow:
        live = slot.live
        account = live.evaluation.account
        levels = live.levels()
        day = live.day()
        opened = live.status != "not_opened"
        return StateRow(
            account_id=live.account_id,
            evaluated_seq=live.seq,
            evaluated_until=live.until,
            status=live.status,
            balance=account.balance if opened else None,
            equity=account.equity if opened else None,
            nearest_rule=levels.rule if levels else None,
            floor=levels.floor if levels else None,
            headroom=levels.headroom if levels else None,
            headroom_pct=levels.headroom_pct if levels else None,
            day=day.day if day else None,
            day_min_equity=day.min_equity if day else None,
            next_due=live.next_due(),
            last_event_at=live.until,
            last_snapshot_at=live.last_snapshot_at,
            last_received_at=slot.received_at,
            stale=slot.stale,
        )

    @staticmethod
    def day_row(slot: Slot) -> DayRow | None:
        day = slot.live.day()
        if day is None:
            return None
        return DayRow(
            slot.live.account_id,
            day.day,
            day.start_balance,
            day.start_equity,
            day.min_equity,
            day.max_equity,
            day.close_balance,
            day.close_equity,
            day.daily_floor,
            day.max_loss_floor,
        )
