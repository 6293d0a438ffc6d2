"""The engine's record of one trading account: its evaluation, position, input hash and day.

``LiveAccount`` is what the engine keeps in memory (and pickles) per account. Each source event
arrives as the canonical body the journal holds; it is decoded on the trusted path, evaluated,
folded into the input chain, and the current trading day's figures move with plain comparisons.
The verdict it gives equals ``propdesk replay`` of the exported journal at the same time.

Time never goes backwards for the evaluator: an event stamped earlier than the time already
evaluated to is evaluated (and hashed) at that time instead (``effective_body``); the export
writes the same bodies, so a replay agrees.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from propdesk.catalogue.product import build_rules, content_hash, effective_phase, phase_context
from propdesk.engine.chain import InputChain
from propdesk.engine.wire import SNAPSHOT_TAIL as _SNAPSHOT_TAIL
from propdesk.engine.wire import decode
from propdesk.engine.wire import decode_snapshot as _snapshot
from propdesk.rules.clock import LocalTime, utc
from propdesk.rules.evaluator import PAUSED, Evaluation
from propdesk.rules.events import Event, canonical, canonical_json, parse_time
from propdesk.rules.family import RuleFamily

#: History status → the lifecycle event a rule decision triggers.
_EVENTS = {"failed": "breached", "paused": "paused", "expired": "expired", "passed": "passed"}
_HUNDRED = Decimal(100)
_sha256 = hashlib.sha256
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Decision:
    """A rule decision to apply to the challenge's lifecycle."""

    event: str  # "breached" | "paused" | "resumed" | "expired" | "passed"
    at: datetime
    rule: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class Levels:
    """The nearest floor among the limit rules, and how far the account is above it."""

    rule: str
    measure: str
    floor: Decimal
    current: Decimal
    headroom: Decimal
    headroom_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    start_balance: Decimal
    start_equity: Decimal
    min_equity: Decimal
    max_equity: Decimal
    close_balance: Decimal
    close_equity: Decimal
    daily_floor: Decimal | None
    max_loss_floor: Decimal | None


def effective_body(body: bytes, until: datetime | None) -> bytes:
    """``body`` as the evaluator sees it after ``until``: its time raised to ``until`` if
    earlier (re-canonicalized), else unchanged."""
    if until is None:
        return body
    event = decode(body)
    if event.time >= until:
        return body
    return _body(replace(event, time=until))


@lru_cache(maxsize=4096)
def _day_ending(day: LocalTime, end: datetime) -> date:
    """The trading day that ends at boundary ``end`` (cached: every account shares them)."""
    return day.day_of(end - _TICK)


def _body(event: Event) -> bytes:
    return canonical_json(canonical(event)).encode()


class LiveAccount:
    __slots__ = (
        "_daily",
        "_day",
        "_day_end",
        "_day_start",
        "_inputs",
        "_max_equity",
        "_max_loss",
        "_min_equity",
        "_trading_day",
        "account_id",
        "addons",
        "changed",
        "evaluation",
        "events",
        "last_snapshot_at",
        "phase",
        "product_code",
        "seq",
        "size",
        "until",
        "version_hash",
    )

    def __init__(
        self,
        account_id: int,
        version_hash: str,
        product_code: str | None,
        phase: str,
        size: str | None,
        addons: Sequence[str],
        rules: list[RuleFamily],
        trading_day: LocalTime,
    ) -> None:
        self.account_id = account_id
        self.version_hash = version_hash
        self.product_code = product_code
        self.phase = phase
        self.size = size
        self.addons = tuple(addons)
        self.evaluation = Evaluation(rules)
        #: The input chain's state (``InputChain``), kept inline: one object less per event.
        self._inputs = InputChain.start(version_hash, phase, size, self.addons).state
        self.seq = 0
        #: Events evaluated (source and engine-made): the verdict's ``events``.
        self.events = 0
        self.until: datetime | None = None
        self.last_snapshot_at: datetime | None = None
        self.changed = False
        self._daily = next((r for r in rules if r.code == "daily_loss"), None)
        self._max_loss = next((r for r in rules if r.code == "max_loss"), None)
        self._trading_day: LocalTime = (
            self._daily.reset if self._daily is not None else trading_day  # type: ignore[attr-defined]
        )
        self._day: date | None = None
        self._day_end: datetime | None = None
        self._day_start: tuple[Decimal, Decimal] | None = None
        self._min_equity = self._max_equity = Decimal(0)

    @classmethod
    def open(
        cls,
        account_id: int,
        product: Mapping[str, Any],
        phase_code: str,
        size: str | None,
        addons: Sequence[str],
        families: Mapping[str, type[RuleFamily]],
    ) -> LiveAccount:
        spec = effective_phase(product, phase_code, size, tuple(addons))
        context = phase_context(product, phase_code)
        rules = build_rules(spec, families, context)
        return cls(
            account_id,
            content_hash(product),
            product.get("code"),
            phase_code,
            size,
            addons,
            rules,
            context.trading_day,
        )

    @property
    def status(self) -> str:
        return self.evaluation.status

    # -- evaluating ---------------------------------------------------------------------------
    def apply(self, seq: int, body: bytes) -> list[Decision]:
        """Evaluate source event ``seq`` (its canonical body); the rule decisions it caused."""
        # The hot path: one decode, one feed, one hash, a few comparisons.
        event = _snapshot(body) if body.endswith(_SNAPSHOT_TAIL) else decode(body)
        at = event.time
        until = self.until
        if until is not None and at < until:
            event = replace(event, time=until)
            body = _body(event)
            at = until
        evaluation = self.evaluation
        history = evaluation.history
        seen = len(history)
        day_end = self._day_end
        if day_end is not None and at > day_end:
            self._roll(at)  # the day's last values are the ones before this event
        evaluation.feed(event)
        self._inputs = _sha256(self._inputs + body).digest()
        self.events += 1
        self.seq = seq
        self.until = at
        self.changed = True
        if event.type == "snapshot":
            self.last_snapshot_at = at
            if day_end is not None and at < day_end:
                equity = evaluation.account.equity
                if equity < self._min_equity:
                    self._min_equity = equity
                elif equity > self._max_equity:
                    self._max_equity = equity
                if len(history) == seen:
                    return []
                return self._decisions(seen)
        self._after(event.type, at)
        if len(history) == seen:
            return []
        return self._decisions(seen)

    def apply_engine_event(self, body: bytes) -> list[Decision]:
        """Evaluate a clock or operator event the engine made (the source seq is unchanged)."""
        event = decode(body)
        at = event.time
        until = self.until
        if until is not None and at < until:
            event = replace(event, time=until)
            body = _body(event)
            at = until
        evaluation = self.evaluation
        seen = len(evaluation.history)
        day_end = self._day_end
        if day_end is not None and at > day_end:
            self._roll(at)
        evaluation.feed(event)
        self._inputs = _sha256(self._inputs + body).digest()
        self.events += 1
        self.until = at
        self.changed = True
        self._after(event.type, at)
        if len(evaluation.history) == seen:
            return []
        return self._decisions(seen)

    def _after(self, kind: str, at: datetime) -> None:
        """Day figures after an event: open the first day, roll at a boundary, track equity."""
        day_end = self._day_end
        if day_end is None:
            if kind == "account_opened":
                self._roll(at)
            return
        if at >= day_end:
            self._roll(at)
        equity = self.evaluation.account.equity
        if equity < self._min_equity:
            self._min_equity = equity
        elif equity > self._max_equity:
            self._max_equity = equity

    def _roll(self, at: datetime) -> None:
        """A new trading day: it starts with the last known balance and equity."""
        account = self.evaluation.account
        end = self._trading_day.next_after(at)
        self._day = _day_ending(self._trading_day, end)
        self._day_end = end
        self._day_start = (account.balance, account.equity)
        self._min_equity = self._max_equity = account.equity

    def _decisions(self, seen: int) -> list[Decision]:
        history = self.evaluation.history
        previous = history[seen - 1]["status"] if seen else "not_opened"
        found = []
        for entry in history[seen:]:
            status = entry["status"]
            if "actor" not in entry:  # an operator's change is not a rule decision
                event = _EVENTS.get(status)
                if event is None and status == "active" and previous == PAUSED:
                    event = "resumed"
                if event is not None:
                    found.append(
                        Decision(
                            event, parse_time(entry["time"]), entry["rule"], entry["explanation"]
                        )
                    )
            previous = status
        return found

    def clock_body(self, at: datetime) -> bytes:
        """The canonical clock event at ``at`` (or at the time evaluated to, if later)."""
        if self.until is not None and self.until > at:
            at = self.until
        # Written directly: ``canonical_json({"time": …, "type": "clock"})``, byte for byte.
        return b'{"time":"' + utc(at).encode() + b'","type":"clock"}'

    def next_due(self) -> datetime | None:
        return self.evaluation.next_due

    # -- results ------------------------------------------------------------------------------
    def input_sha256(self) -> str:
        return self.chain.hexdigest(self.until)

    @property
    def chain(self) -> InputChain:
        """The input hash chain as evaluated so far."""
        return InputChain(self._inputs)

    def verdict(self) -> dict[str, Any]:
        """What ``replay`` of the exported inputs gives with ``until`` = the time evaluated to."""
        evaluation = self.evaluation
        until = self.until
        due = evaluation.next_due
        if until is not None and due is not None and due <= until:
            # A replay decides what is due at exactly ``until``; the engine waits for its clock
            # (an event at the same instant still comes first). Decide it on a copy.
            evaluation = copy.deepcopy(evaluation)
            evaluation.advance(until)
        verdict = evaluation.verdict()
        verdict["history"] = list(verdict["history"])
        verdict["notices"] = list(verdict["notices"])
        return {
            "product": {"code": self.product_code, "version_hash": self.version_hash},
            "phase": self.phase,
            "size": self.size,
            "addons": list(self.addons),
            **verdict,
            "events": self.events,
            "input_sha256": self.input_sha256(),
        }

    def levels(self) -> Levels | None:
        """The nearest floor among the limit rules (smallest headroom), or ``None``."""
        if self.evaluation.status == "not_opened":
            return None
        account = self.evaluation.account
        best: Levels | None = None
        for rule in self.evaluation.rules:
            floor = getattr(rule, "floor", None)
            if rule.role != "limit" or not isinstance(floor, Decimal):
                continue
            on_equity = getattr(rule, "on_equity", True)
            current = account.equity if on_equity else account.balance
            headroom = current - floor
            if best is None or headroom < best.headroom:
                initial = account.initial_balance
                best = Levels(
                    rule.id,
                    "equity" if on_equity else "balance",
                    floor,
                    current,
                    headroom,
                    headroom / initial * _HUNDRED if initial else None,
                )
        return best

    def day(self) -> DayStats | None:
        """The current trading day's figures, or ``None`` before the account opened."""
        if self._day is None or self._day_start is None:
            return None
        account = self.evaluation.account
        daily = self._daily
        max_loss = self._max_loss
        return DayStats(
            self._day,
            self._day_start[0],
            self._day_start[1],
            self._min_equity,
            self._max_equity,
            account.balance,
            account.equity,
            daily.floor if daily is not None else None,  # type: ignore[attr-defined]
            max_loss.floor if max_loss is not None else None,  # type: ignore[attr-defined]
        )


def exported(bodies: Sequence[bytes]) -> list[bytes]:
    """Journal bodies as the engine evaluated them (each never earlier than the one before)."""
    out: list[bytes] = []
    last: datetime | None = None
    for body in bodies:
        body = effective_body(body, last)
        out.append(body)
        last = parse_time(json.loads(body)["time"])
    return out
