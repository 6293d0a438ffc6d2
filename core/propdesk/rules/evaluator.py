"""Fold an account's events through the rules of its phase into a verdict.

Order of decisions: every due instant strictly before an event is decided before that event,
so day-start values are the last known balance and equity at or before the reset instant.
After the event, the rules that react to its type decide; then, if the account is active and
every target is met, it passes. A failed, passed or expired account is decided for good:
later events still move the account's facts but no rule decides again.

Engine-made events: a ``clock`` event decides everything due at or before its time; an
``operator`` event reinstates a failed or expired account or extends its time limit. Status
changes an operator causes carry the ``actor`` in the history: they are not rule decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.events import AccountOpened, Event, EventError, Operator
from propdesk.rules.family import ANYTHING, Band, Finding, RuleFamily
from propdesk.rules.money import plain

ACTIVE, PASSED, FAILED, PAUSED, EXPIRED = "active", "passed", "failed", "paused", "expired"
DECIDED = frozenset({PASSED, FAILED, EXPIRED})
_STATUS_OF = {"breach": FAILED, "expire": EXPIRED, "pause": PAUSED}


class Evaluation:
    """One account in one phase: feed it events in time order, then ``advance`` to a time."""

    __slots__ = (
        "_band",
        "_by_type",
        "_frozen",
        "_snapshot_rules",
        "_targets",
        "_timed",
        "account",
        "decision",
        "history",
        "last_time",
        "next_due",
        "notices",
        "paused_by",
        "rules",
        "status",
    )

    def __init__(self, rules: Sequence[RuleFamily]) -> None:
        self.rules = list(rules)
        self.account = Account()
        self.status = "not_opened"
        self.history: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []
        self.decision: Finding | None = None
        self.paused_by: str | None = None
        self.next_due: datetime | None = None
        self.last_time: datetime | None = None
        self._by_type: dict[str, list[RuleFamily]] = {}
        # Targets decide last: a limit or guard may change what they count (excluded profit).
        for rule in sorted(self.rules, key=lambda r: r.role == "target"):
            for kind in rule.reacts_to:
                self._by_type.setdefault(kind, []).append(rule)
        self._timed = sorted((r for r in self.rules if r.timed), key=lambda r: r.role == "target")
        self._targets = [rule for rule in self.rules if rule.role == "target"]
        self._snapshot_rules = self._by_type.get("snapshot", [])
        self._band: Band | None = None
        #: The objectives as they stood when the account was decided (explain the verdict).
        self._frozen: list[dict[str, Any]] | None = None

    # -- feeding ------------------------------------------------------------------------------
    def feed_all(self, events: Iterable[Event]) -> Evaluation:
        for event in events:
            self.feed(event)
        return self

    def feed(self, event: Event) -> None:
        at = event.time
        last = self.last_time
        if last is not None and at < last:
            raise EventError(f"time goes backwards: {utc(at)} < {utc(last)}")
        kind = event.type
        if kind == "clock":
            self.advance(at)
            return
        due = self.next_due
        if due is not None and due < at:
            self._run_due(at, inclusive=False)
        self.last_time = at
        status = self.status
        account = self.account
        if kind == "snapshot" and status != "not_opened":
            # The hot path: an equity update. Set the facts; inside every rule's quiet band
            # nothing can change and no rule runs.
            balance = account.balance = event.balance  # type: ignore[union-attr]
            equity = account.equity = event.equity  # type: ignore[union-attr]
            if status in DECIDED:
                return
            band = self._band
            if band is not None and band[0] <= equity <= band[1] and band[2] <= balance <= band[3]:
                return
        else:
            if isinstance(event, Operator):
                self._operate(event)
                return
            if isinstance(event, AccountOpened):
                self._open(event)
                return
            if status == "not_opened":
                raise EventError(f"{kind} before account_opened")
            account.apply(event)
            if status in DECIDED:
                return
        for rule in self._by_type.get(event.type, ()):
            finding = rule.on_event(event, self.account)
            if finding is not None:
                self._handle(finding)
                if self.status in DECIDED:
                    return
        if self._timed and event.type != "snapshot":
            self._plan()
        if self.status == ACTIVE and self._targets:
            self._check_pass(event.time)
        self._band = self._quiet_band()

    def _quiet_band(self) -> Band | None:
        eq_low, eq_high, bal_low, bal_high = ANYTHING
        for rule in self._snapshot_rules:
            band = rule.quiet_band()
            if band is None:
                return None
            eq_low, eq_high = max(eq_low, band[0]), min(eq_high, band[1])
            bal_low, bal_high = max(bal_low, band[2]), min(bal_high, band[3])
        return (eq_low, eq_high, bal_low, bal_high)

    def advance(self, until: datetime) -> None:
        """Decide everything due at or before ``until`` (time passes with no event)."""
        if self.next_due is not None and self.next_due <= until:
            self._run_due(until, inclusive=True)
        if self.last_time is None or until > self.last_time:
            self.last_time = until

    def _open(self, event: AccountOpened) -> None:
        if self.status != "not_opened":
            raise EventError("account_opened twice")
        self.account.apply(event)
        self._set_status(ACTIVE, event.time, None, "The account opened.")
        for rule in self.rules:
            finding = rule.start(self.account, event.time)
            if finding is not None:
                self._handle(finding)
        self._plan()
        if self.status == ACTIVE and self._targets:
            self._check_pass(event.time)
        self._band = self._quiet_band()

    # -- time ---------------------------------------------------------------------------------
    def _plan(self) -> None:
        if self.status in DECIDED:
            self.next_due = None
            return
        dues = [due for rule in self._timed if (due := rule.next_due()) is not None]
        self.next_due = min(dues) if dues else None

    def _run_due(self, until: datetime, *, inclusive: bool) -> None:
        while (at := self.next_due) is not None and (at < until or (inclusive and at == until)):
            for rule in self._timed:
                if rule.next_due() == at:
                    finding = rule.on_due(at, self.account)
                    if finding is not None:
                        self._handle(finding)
                    if self.status in DECIDED:
                        break
            previous = at
            self._plan()
            if self.next_due is not None and self.next_due <= previous:
                raise AssertionError(f"a rule planned {self.next_due} at or before {previous}")
            if self.status == ACTIVE and self._targets:
                self._check_pass(at)
        self._band = self._quiet_band()

    # -- operators ----------------------------------------------------------------------------
    def _operate(self, event: Operator) -> None:
        at, status = event.time, self.status
        if event.action == "reinstate":
            if status not in (FAILED, EXPIRED):
                self._unchanged(event, "only a failed or expired account can be reinstated")
                return
            self._reopen(at, f"Reinstated by {event.actor}: {event.reason}", event.actor)
            return
        days = event.days or 0
        if status not in (ACTIVE, PAUSED, EXPIRED):
            self._unchanged(event, "only an active, paused or expired account can be extended")
            return
        why = f"Extended by {days} day{'s' * (days != 1)} by {event.actor}: {event.reason}"
        if status == EXPIRED:
            self._reopen(at, why, event.actor, extend=days)
            return
        for rule in self.rules:
            rule.extend(days, at, self.account)
        self.notices.append({**_entry(at, "extend", None, why), "actor": event.actor})
        self._plan()

    def _unchanged(self, event: Operator, why: str) -> None:
        text = f"{event.action.capitalize()} by {event.actor} changed nothing: {why} "
        text += f"(the account is {self.status.replace('_', ' ')})."
        self.notices.append({**_entry(event.time, "operator", None, text), "actor": event.actor})

    def _reopen(self, at: datetime, why: str, actor: str, extend: int = 0) -> None:
        # While decided no due ran: bring the rules' bookkeeping (day starts, end-of-day marks)
        # up to ``at`` without deciding anything for a time the account was not trading.
        while True:
            dues = [d for rule in self._timed if (d := rule.next_due()) is not None]
            if not dues or (earliest := min(dues)) >= at:
                break
            for rule in self._timed:
                if rule.next_due() == earliest:
                    rule.on_due(earliest, self.account)
            after = [d for rule in self._timed if (d := rule.next_due()) is not None]
            if after and min(after) <= earliest:
                raise AssertionError(f"a rule planned {min(after)} at or before {earliest}")
        for rule in self.rules:
            rule.reopen(at, self.account)
            if extend:
                rule.extend(extend, at, self.account)
        self.decision = None
        self._frozen = None
        self.paused_by = None
        self.status = ACTIVE
        self.history.append(
            {"time": utc(at), "status": ACTIVE, "rule": None, "explanation": why, "actor": actor}
        )
        self._plan()
        self._band = self._quiet_band()

    # -- decisions ----------------------------------------------------------------------------
    def _handle(self, finding: Finding) -> None:
        outcome = finding.outcome
        if outcome in ("warn", "exclude_profit"):
            if outcome == "exclude_profit" and finding.amount is not None:
                self.account.excluded_profit += finding.amount
            self.notices.append(_entry(finding.time, outcome, finding.rule, finding.explanation))
            return
        if outcome == "resume":
            if self.status == PAUSED and self.paused_by == finding.rule:
                self.paused_by = None
                self._set_status(ACTIVE, finding.time, finding.rule, finding.explanation)
            return
        status = _STATUS_OF[outcome]
        if status == PAUSED:
            if self.status == PAUSED:
                self.notices.append(
                    _entry(finding.time, "pause", finding.rule, finding.explanation)
                )
                return
            self.paused_by = finding.rule
        else:
            self.decision = finding
        self._set_status(status, finding.time, finding.rule, finding.explanation)
        if status in DECIDED:
            self.next_due = None
            self._frozen = self._objectives()

    def _check_pass(self, at: datetime) -> None:
        pending = [rule for rule in self._targets if not rule.met]
        if pending:
            decisive = [rule for rule in pending if getattr(rule, "fails_when_alone_unmet", False)]
            if decisive and len(decisive) == len(pending):
                # Everything else is met: a target that fails instead of waiting decides now.
                rule = decisive[0]
                self._handle(rule.finding("breach", at, rule.unmet_explanation(self.account)))
            return
        parts = [rule.objective(self.account).get("text", rule.id) for rule in self._targets]
        finding = Finding("", "breach", at, "Every objective is met: " + "; ".join(parts) + ".")
        self.decision = finding
        self._set_status(PASSED, at, None, finding.explanation)
        self.next_due = None
        self._frozen = self._objectives()

    def _set_status(self, status: str, at: datetime, rule: str | None, why: str) -> None:
        self.status = status
        self.history.append({"time": utc(at), "status": status, "rule": rule, "explanation": why})

    # -- result -------------------------------------------------------------------------------
    def _objectives(self) -> list[dict[str, Any]]:
        account = self.account
        return [
            {"rule": rule.id, "family": rule.code, "role": rule.role, **rule.objective(account)}
            for rule in self.rules
        ]

    def verdict(self) -> dict[str, Any]:
        account = self.account
        decided = self.decision if self.status in DECIDED else None
        return {
            "status": self.status,
            "decided_at": utc(decided.time) if decided else None,
            "rule": (decided.rule or None) if decided else None,
            "explanation": decided.explanation if decided else None,
            "history": self.history,
            "notices": self.notices,
            "objectives": self._frozen if self._frozen is not None else self._objectives(),
            "account": {
                "initial_balance": plain(account.initial_balance),
                "balance": plain(account.balance),
                "equity": plain(account.equity),
                "open_positions": len(account.positions),
                "open_lots": plain(account.open_lots),
                "excluded_profit": plain(account.excluded_profit),
            },
            "evaluated_until": utc(self.last_time) if self.last_time else None,
        }


def _entry(at: datetime, kind: str, rule: str | None, explanation: str) -> dict[str, Any]:
    return {"time": utc(at), "kind": kind, "rule": rule, "explanation": explanation}
