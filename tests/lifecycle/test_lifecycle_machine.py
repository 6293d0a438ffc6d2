"""The challenge lifecycle, one transition at a time: what each does and what it refuses."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from lifecyclekit import INSTANT, ONE_STEP, T0, TWO_STEP, V1, V2, after, make, valid, walk

from propdesk.catalogue.schema import PHASE_KINDS as CATALOGUE_KINDS
from propdesk.errors import Conflict
from propdesk.lifecycle.machine import (
    PHASE_KINDS,
    STATUSES,
    TERMINAL,
    Challenge,
    LifecycleError,
    allowed,
    apply,
    journal,
    replay,
)
from propdesk.lifecycle.transitions import (
    EVENTS,
    OPERATOR_ACTIONS,
    Advance,
    Breached,
    Extend,
    Paused,
    Rebind,
    Reinstate,
    Resumed,
)

TO_FUNDED = ("paid", "provisioned", "passed", "next_phase", "provisioned")
#: A way to reach each status of a two-step product (funded: a one-step product).
REACH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "awaiting_payment": (TWO_STEP, ()),
    "provisioning": (TWO_STEP, ("paid",)),
    "active": (TWO_STEP, ("paid", "provisioned")),
    "funded": (ONE_STEP, TO_FUNDED),
    "paused": (TWO_STEP, ("paid", "provisioned", "paused")),
    "passed": (TWO_STEP, ("paid", "provisioned", "passed")),
    "failed": (TWO_STEP, ("paid", "provisioned", "breached")),
    "expired": (TWO_STEP, ("paid", "provisioned", "expired")),
    "cancelled": (TWO_STEP, ("cancelled",)),
}
TAKES = {
    "awaiting_payment": {"paid", "cancelled", "rebind"},
    "provisioning": {"provisioned", "refunded", "rebind"},
    "active": {
        "paused",
        "breached",
        "expired",
        "passed",
        "extend",
        "advance",
        "refunded",
        "rebind",
    },
    "funded": {"paused", "breached", "refunded", "rebind", "scaled"},
    "paused": {"resumed", "breached", "expired", "extend", "advance", "refunded", "rebind"},
    "passed": {"next_phase", "refunded", "rebind"},
    "failed": {"reset", "reinstate"},
    "expired": {"reset", "reinstate", "extend"},
    "cancelled": set(),
}


def reach(status: str, *then: str) -> Challenge:
    """A challenge in ``status`` (two-step, or one-step when funded), then ``then``."""
    phases, events = REACH[status]
    assert walk(phases, *events).status == status
    return walk(phases, *events, *then)


def refusal(state: Challenge, event: str, **fields: object) -> str:
    transition = dataclasses.replace(valid(event, after(state), state), **fields)
    with pytest.raises(LifecycleError) as caught:
        apply(state, transition)
    return str(caught.value)


# -- a new challenge --------------------------------------------------------------------------
def test_a_new_challenge_awaits_payment_for_its_first_phase() -> None:
    state = Challenge.start(list(TWO_STEP), V1)
    assert (state.status, state.phase, state.kind, state.attempt) == (
        "awaiting_payment",
        0,
        "evaluation",
        1,
    )
    assert (state.phases, state.version_hash, state.history) == (TWO_STEP, V1, ())
    assert (state.account, state.paused_by, state.extension_days) == (None, None, 0)


@pytest.mark.parametrize("phases", [(), ("evaluation", "verification")])
def test_a_challenge_needs_known_phase_kinds(phases: tuple[str, ...]) -> None:
    with pytest.raises(LifecycleError, match="one or more phases of kind evaluation, funded"):
        Challenge.start(phases, V1)


def test_a_challenge_pins_a_version() -> None:
    with pytest.raises(LifecycleError, match="pins a product version"):
        Challenge.start(TWO_STEP, "")


def test_phase_kinds_are_the_catalogues() -> None:
    assert set(PHASE_KINDS) == set(CATALOGUE_KINDS)


def test_a_refusal_is_a_conflict() -> None:
    assert issubclass(LifecycleError, Conflict)
    assert LifecycleError("x").status == 409


# -- what each status takes -------------------------------------------------------------------
@pytest.mark.parametrize("status", STATUSES)
def test_each_status_takes_its_events(status: str) -> None:
    assert allowed(reach(status)) == TAKES[status]


@pytest.mark.parametrize(
    ("status", "event"),
    # An evaluation phase refuses ``scaled`` for its kind (test_a_scaled_funded_account...).
    [
        (s, e)
        for s in STATUSES
        for e in EVENTS
        if e not in TAKES[s] and (s, e) != ("active", "scaled")
    ],
)
def test_every_other_event_is_refused_naming_the_status_and_what_it_takes(
    status: str, event: str
) -> None:
    state = reach(status)
    message = refusal(state, event)
    article = "an" if status[0] in "aeiou" else "a"
    assert message.startswith(f"cannot {event!r} {article} {status} challenge: ")
    takes = [e for e in EVENTS if e in TAKES[status]]
    if takes:
        assert message.endswith(f"{article} {status} challenge only takes {', '.join(takes)}")
    else:
        assert message.endswith("a cancelled challenge takes nothing more")


def test_the_refusal_reads_as_the_firm_says_it() -> None:
    message = refusal(reach("failed"), "resumed")
    assert (
        message
        == "cannot 'resumed' a failed challenge: a failed challenge only takes reset, reinstate"
    )


def test_terminal_statuses() -> None:
    assert frozenset({"failed", "expired", "cancelled"}) == TERMINAL
    assert {"reinstate", "extend", "advance", "rebind"} == OPERATOR_ACTIONS


# -- from order to funded ---------------------------------------------------------------------
def test_a_two_step_challenge_goes_from_payment_to_funded_with_its_history() -> None:
    state = walk(TWO_STEP, "paid", "provisioned", "passed", "next_phase", "provisioned")
    assert (state.status, state.phase, state.kind, state.attempt) == ("active", 1, "evaluation", 1)
    state = walk(TWO_STEP, *TO_FUNDED, "passed", "next_phase", "provisioned")
    assert (state.status, state.phase, state.kind, state.attempt) == ("funded", 2, "funded", 1)
    assert state.account == "mt5:1007"
    rows = [(e.seq, e.event, e.from_status, e.to_status, e.phase) for e in state.history]
    assert rows == [
        (1, "paid", "awaiting_payment", "provisioning", 0),
        (2, "provisioned", "provisioning", "active", 0),
        (3, "passed", "active", "passed", 0),
        (4, "next_phase", "passed", "provisioning", 1),
        (5, "provisioned", "provisioning", "active", 1),
        (6, "passed", "active", "passed", 1),
        (7, "next_phase", "passed", "provisioning", 2),
        (8, "provisioned", "provisioning", "funded", 2),
    ]
    assert [e.at for e in state.history] == [T0 + timedelta(minutes=m) for m in range(8)]
    passed = state.history[2]
    assert (passed.rule, passed.explanation, passed.actor, passed.reason) == (
        None,
        "passed for the test",
        None,
        None,
    )


def test_an_instant_phase_trades_as_active_and_never_passes() -> None:
    state = walk(INSTANT, "paid", "provisioned")
    assert (state.status, state.kind) == ("active", "instant")
    assert allowed(state) == {
        "paused",
        "breached",
        "expired",
        "extend",
        "refunded",
        "rebind",
        "scaled",
    }
    message = refusal(state, "passed")
    assert message == (
        "cannot 'passed' an active challenge: phase 1 of 1 is instant, and only an evaluation "
        "phase followed by another phase passes; it takes paused, breached, expired, scaled, "
        "refunded, extend, rebind"
    )


def test_the_last_evaluation_phase_passes_only_when_a_phase_follows() -> None:
    assert walk(ONE_STEP, "paid", "provisioned", "passed").status == "passed"
    alone = walk(("evaluation",), "paid", "provisioned")
    assert "passed" not in allowed(alone)
    assert "phase 1 of 1 is evaluation" in refusal(alone, "passed")
    assert "phase 1 of 1 is evaluation" in refusal(alone, "advance")


def test_a_funded_phase_never_passes_nor_expires() -> None:
    state = reach("funded")
    assert refusal(state, "passed").startswith("cannot 'passed' a funded challenge: a funded")
    paused = apply(state, valid("paused", after(state), state))
    assert (paused.status, paused.kind) == ("paused", "funded")
    assert allowed(paused) == {"resumed", "breached", "refunded", "rebind"}
    assert "a funded phase has no deadline" in refusal(paused, "expired")
    assert "a funded phase has no deadline" in refusal(paused, "extend")
    assert "only an evaluation phase followed by another phase passes" in refusal(paused, "advance")


# -- pause and resume -------------------------------------------------------------------------
def test_a_soft_breach_pauses_until_the_same_rule_resumes() -> None:
    active = reach("active")
    paused = apply(active, Paused(at=after(active), rule="daily_loss", explanation="-5.2%"))
    assert (paused.status, paused.paused_by) == ("paused", "daily_loss")
    entry = paused.history[-1]
    assert (entry.rule, entry.explanation) == ("daily_loss", "-5.2%")
    with pytest.raises(LifecycleError) as caught:
        apply(paused, Resumed(at=after(paused), rule="max_loss"))
    assert str(caught.value) == (
        "cannot 'resumed' a paused challenge by rule 'max_loss': it is paused by 'daily_loss', "
        "and only that rule resumes it"
    )
    resumed = apply(paused, Resumed(at=after(paused), rule="daily_loss", explanation="new day"))
    assert (resumed.status, resumed.paused_by) == ("active", None)


def test_a_paused_funded_challenge_resumes_as_funded() -> None:
    state = walk(ONE_STEP, *TO_FUNDED, "paused", "resumed")
    assert state.status == "funded"


def test_a_pause_is_not_paused_again() -> None:
    assert refusal(reach("paused"), "paused").startswith("cannot 'paused' a paused challenge")


# -- breach, expiry, pass ---------------------------------------------------------------------
@pytest.mark.parametrize("status", ["active", "funded", "paused"])
def test_a_breach_fails_the_challenge(status: str) -> None:
    state = reach(status)
    failed = apply(state, Breached(at=after(state), rule="max_loss", explanation="equity 89,950"))
    assert (failed.status, failed.paused_by, failed.phase, failed.attempt) == (
        "failed",
        None,
        state.phase,
        1,
    )
    assert failed.history[-1].rule == "max_loss"


@pytest.mark.parametrize("status", ["active", "paused"])
def test_a_deadline_expires_a_running_or_paused_phase(status: str) -> None:
    expired = reach(status, "expired")
    assert (expired.status, expired.paused_by) == ("expired", None)


@pytest.mark.parametrize("status", ["passed", "failed", "expired", "cancelled"])
def test_nothing_the_engine_says_undoes_a_decision(status: str) -> None:
    state = reach(status)
    for event in ("breached", "passed", "resumed", "provisioned", "paused"):
        assert refusal(state, event).startswith(f"cannot {event!r}")


# -- next phase and reset ---------------------------------------------------------------------
def test_the_next_phase_starts_at_attempt_one_on_a_new_account() -> None:
    state = walk(
        TWO_STEP, "paid", "provisioned", "expired", "reset", "provisioned", "extend", "passed"
    )
    assert (state.attempt, state.extension_days) == (2, 7)
    nxt = apply(state, valid("next_phase", after(state), state))
    assert (nxt.status, nxt.phase, nxt.attempt, nxt.account, nxt.extension_days) == (
        "provisioning",
        1,
        1,
        None,
        0,
    )


@pytest.mark.parametrize(("event", "status"), [("breached", "failed"), ("expired", "expired")])
def test_a_reset_is_a_new_attempt_at_the_same_phase(event: str, status: str) -> None:
    state = walk(TWO_STEP, "paid", "provisioned", "passed", "next_phase", "provisioned", event)
    assert state.status == status
    reset = apply(state, valid("reset", after(state), state))
    assert (reset.status, reset.phase, reset.attempt, reset.account) == (
        "provisioning",
        1,
        2,
        None,
    )
    assert reset.history[:-1] == state.history
    assert (reset.history[-1].phase, reset.history[-1].attempt) == (1, 2)
    again = walk(TWO_STEP, "paid", "provisioned", "breached", "reset", "provisioned")
    assert (again.status, again.attempt, again.account) == ("active", 2, "mt5:1004")


def test_an_order_is_cancelled_before_payment_only() -> None:
    state = reach("cancelled")
    assert state.history[-1].reason == "reviewed by the risk desk"
    assert allowed(state) == set()
    assert refusal(reach("provisioning"), "cancelled").startswith(
        "cannot 'cancelled' a provisioning challenge"
    )
    with pytest.raises(LifecycleError, match="'cancelled' needs a reason"):
        apply(Challenge.start(TWO_STEP, V1), make("cancelled", T0, reason=" "))


# -- operator actions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phases", "events", "back_to"),
    [
        (TWO_STEP, ("paid", "provisioned", "breached"), "active"),
        (TWO_STEP, ("paid", "provisioned", "paused", "expired"), "active"),
        (ONE_STEP, (*TO_FUNDED, "paused", "breached"), "funded"),
    ],
)
def test_reinstate_trades_the_same_phase_again(
    phases: tuple[str, ...], events: tuple[str, ...], back_to: str
) -> None:
    state = walk(phases, *events)
    reinstated = apply(
        state, Reinstate(at=after(state), actor="ana@desk", reason="stale price feed")
    )
    assert (reinstated.status, reinstated.paused_by) == (back_to, None)
    assert (reinstated.phase, reinstated.attempt, reinstated.account) == (
        state.phase,
        state.attempt,
        state.account,
    )
    entry = reinstated.history[-1]
    assert (entry.actor, entry.reason, entry.from_status) == (
        "ana@desk",
        "stale price feed",
        state.status,
    )


@pytest.mark.parametrize("event", sorted(OPERATOR_ACTIONS))
@pytest.mark.parametrize(("actor", "reason"), [("", "why"), ("ana@desk", ""), ("ana", "  ")])
def test_an_operator_action_needs_an_actor_and_a_reason(
    event: str, actor: str, reason: str
) -> None:
    state = reach("expired" if event == "reinstate" else "active")
    message = refusal(state, event, actor=actor, reason=reason)
    assert message == f"{event!r} is an operator action: it needs an actor and a reason"


def test_extend_reopens_an_expired_phase_and_records_the_days() -> None:
    state = reach("expired")
    extended = apply(state, Extend(at=after(state), actor="ana", reason="outage", days=3))
    assert (extended.status, extended.extension_days) == ("active", 3)
    assert extended.history[-1].transition == Extend(
        at=after(state), actor="ana", reason="outage", days=3
    )


@pytest.mark.parametrize("status", ["active", "paused"])
def test_extend_keeps_a_running_phase_running_and_adds_up(status: str) -> None:
    state = reach(status, "extend", "extend")
    assert (state.status, state.extension_days) == (status, 14)


@pytest.mark.parametrize("days", [0, -2])
def test_extend_needs_days(days: int) -> None:
    assert refusal(reach("active"), "extend", days=days) == (
        f"'extend' needs a number of days above 0 (got {days})"
    )


@pytest.mark.parametrize("status", ["active", "paused"])
def test_advance_passes_by_hand(status: str) -> None:
    state = reach(status)
    advanced = apply(state, Advance(at=after(state), actor="ana", reason="objectives met on MT5"))
    assert (advanced.status, advanced.paused_by, advanced.phase) == ("passed", None, 0)
    assert advanced.history[-1].event == "advance"


@pytest.mark.parametrize("status", sorted(set(STATUSES) - TERMINAL))
def test_rebind_pins_another_version_and_keeps_the_status(status: str) -> None:
    state = reach(status)
    rebound = apply(state, Rebind(at=after(state), actor="ana", reason="fix", version_hash=V2))
    assert (rebound.status, rebound.version_hash) == (status, V2)
    assert rebound.history[-1].to_status == status


def test_rebind_refuses_the_version_already_pinned_or_none() -> None:
    state = reach("active")
    assert refusal(state, "rebind", version_hash=V1) == (
        f"cannot 'rebind' an active challenge to {V1}: it is already pinned to that version"
    )
    assert refusal(state, "rebind", version_hash="") == (
        "'rebind' needs the content hash of the product version to pin"
    )


# -- fields and time --------------------------------------------------------------------------
def test_the_engine_names_the_rule_and_the_platform_the_account() -> None:
    assert refusal(reach("active"), "breached", rule="") == (
        "'breached' needs the id of the rule that decided"
    )
    assert refusal(reach("provisioning"), "provisioned", account="") == (
        "'provisioned' needs the platform account"
    )


def test_time_does_not_go_backwards() -> None:
    state = reach("active")
    last = state.history[-1].at
    same = apply(state, valid("paused", last, state))
    assert same.history[-1].at == last
    with pytest.raises(LifecycleError) as caught:
        apply(state, valid("paused", last - timedelta(seconds=1), state))
    assert str(caught.value) == (
        "cannot 'paused' an active challenge at 2025-03-03T09:00:59Z: its last event was at "
        "2025-03-03T09:01:00Z, and time does not go backwards"
    )


def test_a_time_needs_its_timezone() -> None:
    naive = datetime(2025, 3, 3, 9, 0)
    with pytest.raises(LifecycleError, match="'paid' needs an aware time"):
        apply(Challenge.start(TWO_STEP, V1), make("paid", naive))


# -- purity and replay ------------------------------------------------------------------------
def test_apply_returns_a_new_state_and_leaves_its_input_alone() -> None:
    state = reach("active")
    copy = Challenge(**vars(state))
    paused = apply(state, valid("paused", after(state), state))
    assert paused is not state
    assert state == copy
    assert paused.history[:-1] == state.history


@pytest.mark.parametrize(
    "events",
    [
        ("paid", "provisioned", "paused", "breached", "reset", "provisioned", "rebind"),
        ("paid", "provisioned", "passed", "next_phase", "provisioned", "expired", "reinstate"),
    ],
)
def test_replaying_the_journal_rebuilds_the_state(events: tuple[str, ...]) -> None:
    state = walk(TWO_STEP, *events)
    assert journal(state) == tuple(entry.transition for entry in state.history)
    assert replay(Challenge.start(TWO_STEP, V1), journal(state)) == state
    assert replay(Challenge.start(TWO_STEP, V1), []) == Challenge.start(TWO_STEP, V1)


@pytest.mark.parametrize("phases", [INSTANT, ONE_STEP])
def test_a_scaled_funded_account_is_the_same_phase_on_a_new_attempt(
    phases: tuple[str, ...],
) -> None:
    events = ("paid", "provisioned") if phases == INSTANT else ("paid", "provisioned", "passed")
    events += () if phases == INSTANT else ("next_phase", "provisioned")
    state = walk(phases, *events)
    scaled = apply(state, valid("scaled", after(state), state))
    assert (scaled.status, scaled.phase, scaled.attempt, scaled.account) == (
        "provisioning",
        state.phase,
        state.attempt + 1,
        None,
    )
    evaluating = walk(TWO_STEP, "paid", "provisioned")
    with pytest.raises(LifecycleError, match="scaled"):
        apply(evaluating, valid("scaled", after(evaluating), evaluating))
    with pytest.raises(LifecycleError, match="positive decimal"):
        apply(state, make("scaled", after(state), balance="-5", explanation="x"))
