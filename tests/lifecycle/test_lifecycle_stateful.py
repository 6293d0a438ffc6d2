"""The lifecycle under random transitions, valid and not: the invariants hold at every step.

- No exit from a terminal status except by an operator (reinstate, extend) or a new attempt
  (reset); a cancelled challenge takes nothing.
- A breach is never undone by later events: after a failure only reset and reinstate apply.
- A pass and a breach never both commit in one phase attempt (unless an operator reinstated
  the challenge between them): after a pass, a breach is refused.
- The history is append-only, its last status is the challenge's, and replaying the applied
  transitions from the initial state reproduces the state exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from lifecyclekit import T0, V1, V2, make, valid

from propdesk.lifecycle.machine import (
    AWAITING_PAYMENT,
    CANCELLED,
    FAILED,
    PASSED,
    PAUSED,
    PHASE_KINDS,
    TERMINAL,
    Challenge,
    LifecycleError,
    allowed,
    apply,
    journal,
    replay,
)
from propdesk.lifecycle.transitions import EVENTS, Transition

SHAPES = [("evaluation", "evaluation", "funded"), ("evaluation", "funded"), ("instant",)]
PHASES = st.one_of(
    st.sampled_from(SHAPES),
    st.lists(st.sampled_from(PHASE_KINDS), min_size=1, max_size=4).map(tuple),
)
MINUTES = st.integers(0, 3 * 24 * 60)
#: Fields of a random transition: mostly well-formed, sometimes empty, wrong or early.
FIELDS = st.fixed_dictionaries(
    {
        "rule": st.sampled_from(["daily_loss", "max_loss", "time_limit", ""]),
        "explanation": st.sampled_from(["equity 94,800 < floor 95,000", ""]),
        "account": st.sampled_from(["mt5:1001", "mt5:1002", ""]),
        "actor": st.sampled_from(["ana@desk", "risk@desk", ""]),
        "reason": st.sampled_from(["stale price feed", "platform outage", " "]),
        "days": st.integers(-1, 30),
        "version_hash": st.sampled_from([V1, V2, ""]),
        "balance": st.sampled_from(["125000", "0", "x"]),
    }
)
LEAVE_TERMINAL = {"reset", "reinstate", "extend"}


class ChallengeLifecycle(RuleBasedStateMachine):
    @initialize(phases=PHASES)
    def order(self, phases: tuple[str, ...]) -> None:
        self.initial = Challenge.start(phases, V1)
        self.state = self.initial
        self.applied: list[Transition] = []
        self.clock = T0

    @rule(event=st.sampled_from(EVENTS), minutes=st.integers(-60, 24 * 60), fields=FIELDS)
    def anything(self, event: str, minutes: int, fields: dict[str, Any]) -> None:
        at = self.clock + timedelta(minutes=minutes)
        self.fire(make(event, at, **fields))

    @rule(event=st.sampled_from(EVENTS), minutes=MINUTES)
    def without_timezone(self, event: str, minutes: int) -> None:
        naive = (self.clock + timedelta(minutes=minutes)).replace(tzinfo=None)
        self.fire(valid(event, naive, self.state))

    @precondition(lambda self: bool(allowed(self.state) - {"cancelled"}))
    @rule(data=st.data(), minutes=MINUTES)
    def something_allowed(self, data: st.DataObject, minutes: int) -> None:
        # Cancelling ends the story early: leave it to ``anything`` (about 1 in 14 there).
        events = sorted(allowed(self.state) - {"cancelled"})
        event = data.draw(st.sampled_from(events), label="event")
        transition = valid(event, self.clock + timedelta(minutes=minutes), self.state)
        assert self.fire(transition), f"{event} was allowed but refused"

    def fire(self, transition: Transition) -> bool:
        before, event = self.state, transition.event
        try:
            after = apply(before, transition)
        except LifecycleError as error:
            message = str(error)
            assert repr(event) in message
            if event not in allowed(before):
                assert message.startswith(f"cannot {event!r} ")
                assert f" {before.status} challenge" in message
            return False
        assert event in allowed(before)
        self.check_step(before, transition, after)
        self.state, self.clock = after, transition.at
        self.applied.append(transition)
        return True

    def check_step(self, before: Challenge, transition: Transition, after: Challenge) -> None:
        event = transition.event
        if before.status in TERMINAL:
            assert before.status != CANCELLED
            assert event in LEAVE_TERMINAL
        if before.status == FAILED:
            assert event in {"reset", "reinstate"}
        if before.status == PASSED:
            assert event in {"next_phase", "refunded", "rebind"}
        assert after.history[:-1] == before.history
        assert all(a is b for a, b in zip(after.history, before.history, strict=False))
        entry = after.history[-1]
        assert (entry.seq, entry.event, entry.at) == (len(after.history), event, transition.at)
        assert (entry.from_status, entry.to_status) == (before.status, after.status)
        assert entry.transition is transition

    @invariant()
    def history_ends_in_the_status(self) -> None:
        state = self.state
        if state.history:
            assert state.history[-1].to_status == state.status
        else:
            assert state.status == AWAITING_PAYMENT
        assert [e.seq for e in state.history] == list(range(1, len(state.history) + 1))
        times: list[datetime] = [e.at for e in state.history]
        assert times == sorted(times)

    @invariant()
    def the_state_is_consistent(self) -> None:
        state = self.state
        assert 0 <= state.phase < len(state.phases) and state.attempt >= 1
        assert (state.paused_by is not None) == (state.status == PAUSED)
        if state.status != CANCELLED:
            no_account = state.status in {AWAITING_PAYMENT, "provisioning"}
            assert (state.account is None) == no_account
        elif state.history[-1].event == "cancelled":
            assert state.account is None  # dropped before payment: it never had one
        else:
            assert state.history[-1].event == "refunded"  # closed, its account kept on record
        assert state.extension_days >= 0
        if state.status == "funded":
            assert state.kind == "funded"
        if state.status in {"active", "expired", PASSED}:
            assert state.kind != "funded"
        if state.status == PASSED:
            assert state.kind == "evaluation" and state.phase + 1 < len(state.phases)

    @invariant()
    def a_pass_and_a_breach_never_both_commit(self) -> None:
        decided: dict[tuple[int, int], str] = {}
        for entry in self.state.history:
            key = (entry.phase, entry.attempt)
            if entry.event in {"passed", "advance"}:
                assert decided.get(key) != "breached", self.state.history
                decided[key] = "passed"
            elif entry.event == "breached":
                assert decided.get(key) != "passed", self.state.history
                decided[key] = "breached"
            elif entry.event == "reinstate":
                decided.pop(key, None)  # an operator undid the breach

    @invariant()
    def replay_reproduces_the_state(self) -> None:
        assert journal(self.state) == tuple(self.applied)
        assert replay(self.initial, self.applied) == self.state


ChallengeLifecycle.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
TestChallengeLifecycle = ChallengeLifecycle.TestCase
