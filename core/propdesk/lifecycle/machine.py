"""The lifecycle of a challenge as a pure state machine: ``apply`` a transition, get a new state.

A challenge is one purchase of a product version by a trader. It moves through the product's
phases in order, each phase on a platform account of its own, and it pins the version it was
bought under until an operator re-binds it. Its state is the status, the current phase (index
and kind), the attempt at that phase, the account, the rule that paused it, the deadline
extension granted, and the full history.

Statuses, and the events each takes::

    awaiting_payment  paid, cancelled, rebind
    provisioning      provisioned, refunded, rebind
    active            paused, breached, expired, passed, extend, advance, refunded, rebind,
                      scaled (an instant-funded phase)
    funded            paused, breached, refunded, rebind, scaled
    paused            resumed, breached, expired, extend, advance, refunded, rebind
    passed            next_phase, refunded, rebind
    failed            reset, reinstate                (terminal)
    expired           reset, reinstate, extend        (terminal)
    cancelled         nothing                         (terminal)

A phase trades as ``active`` (evaluation, instant) or ``funded`` (funded): ``provisioned``,
``resumed`` and ``reinstate`` return to that status. Only an evaluation phase followed by
another phase passes (by ``passed`` or the operator's ``advance``); a funded phase has no
deadline, so it neither expires nor is extended. ``next_phase`` starts the next phase at
attempt 1; ``reset`` starts the same phase again at attempt + 1, and so does ``scaled`` (a
funded or instant phase whose payout met the scaling plan, on a larger account). All need a
new account and start without extension. Terminal statuses are left only by a new attempt
(reset) or by an operator (reinstate, extend): no later verdict of the engine undoes a breach.

``apply`` never changes its input: it returns a new state with one history entry appended,
or raises ``LifecycleError`` saying what was refused and what the challenge takes now. Time
does not go backwards. ``replay`` folds transitions from an initial state, so the history's
transitions (``journal``) rebuild the state exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from propdesk.errors import Conflict
from propdesk.lifecycle.transitions import (
    EVENTS,
    Advance,
    Breached,
    Cancelled,
    Expired,
    Extend,
    NextPhase,
    OperatorAction,
    Paid,
    Passed,
    Paused,
    Provisioned,
    Rebind,
    Refunded,
    Reinstate,
    Reset,
    Resumed,
    Scaled,
    Transition,
)
from propdesk.rules.clock import utc

AWAITING_PAYMENT, PROVISIONING = "awaiting_payment", "provisioning"
ACTIVE, FUNDED, PAUSED, PASSED = "active", "funded", "paused", "passed"
FAILED, EXPIRED, CANCELLED = "failed", "expired", "cancelled"
TERMINAL = frozenset({FAILED, EXPIRED, CANCELLED})

# Phase kinds, as in the catalogue. A funded phase trades in the status of the same name.
EVALUATION, INSTANT = "evaluation", "instant"
PHASE_KINDS = (EVALUATION, FUNDED, INSTANT)

#: What each status takes, before the phase has its say (see ``allowed``).
_TAKES: dict[str, tuple[str, ...]] = {
    AWAITING_PAYMENT: ("paid", "cancelled", "rebind"),
    PROVISIONING: ("provisioned", "refunded", "rebind"),
    ACTIVE: (
        "paused",
        "breached",
        "expired",
        "passed",
        "extend",
        "advance",
        "refunded",
        "rebind",
        "scaled",
    ),
    FUNDED: ("paused", "breached", "refunded", "rebind", "scaled"),
    PAUSED: ("resumed", "breached", "expired", "extend", "advance", "refunded", "rebind"),
    PASSED: ("next_phase", "refunded", "rebind"),
    FAILED: ("reset", "reinstate"),
    EXPIRED: ("reset", "reinstate", "extend"),
    CANCELLED: (),
}
STATUSES = tuple(_TAKES)
_PASSING = frozenset({"passed", "advance"})
_DEADLINE = frozenset({"expired", "extend"})


class LifecycleError(Conflict):
    """A transition the challenge does not take now (or one that is malformed)."""

    title = "Transition refused"
    slug = "transition-refused"


@dataclass(frozen=True)
class HistoryEntry:
    """One applied transition. ``phase`` and ``attempt`` are the challenge's after it."""

    seq: int
    at: datetime
    event: str
    from_status: str
    to_status: str
    phase: int
    attempt: int
    rule: str | None
    explanation: str | None
    actor: str | None
    reason: str | None
    #: The transition itself: it keeps what the row does not (account, days, version).
    transition: Transition


@dataclass(frozen=True)
class Challenge:
    """A challenge's state: begin with ``start``, move on with ``apply``; never changed."""

    phases: tuple[str, ...]
    version_hash: str
    status: str = AWAITING_PAYMENT
    phase: int = 0
    attempt: int = 1
    account: str | None = None
    paused_by: str | None = None
    extension_days: int = 0
    history: tuple[HistoryEntry, ...] = ()

    @classmethod
    def start(cls, phases: Sequence[str], version_hash: str) -> Challenge:
        """A challenge just ordered: awaiting payment for phase 0 of ``phases`` (their kinds)."""
        unknown = [kind for kind in phases if kind not in PHASE_KINDS]
        if not phases or unknown:
            raise LifecycleError(
                f"a challenge needs one or more phases of kind {', '.join(PHASE_KINDS)}; "
                f"got {list(phases)}"
            )
        if not version_hash:
            raise LifecycleError("a challenge pins a product version: give its content hash")
        return cls(tuple(phases), version_hash)

    @property
    def kind(self) -> str:
        return self.phases[self.phase]


def allowed(state: Challenge) -> set[str]:
    """The events ``state`` takes now (a resume must still come from the pausing rule)."""
    takes = set(_TAKES[state.status])
    if not _passes(state):
        takes -= _PASSING
    if state.kind == FUNDED:
        takes -= _DEADLINE
    if state.kind == EVALUATION:
        takes.discard("scaled")
    return takes


def apply(state: Challenge, transition: Transition) -> Challenge:
    """``state`` after ``transition``, with its history entry; ``LifecycleError`` if refused."""
    event = transition.event
    if event not in allowed(state):
        raise LifecycleError(_refusal(state, event))
    _check_fields(transition)
    last = state.history[-1].at if state.history else None
    if last is not None and transition.at < last:
        raise LifecycleError(
            f"cannot {event!r} {_a(state.status)} challenge at {utc(transition.at)}: its last "
            f"event was at {utc(last)}, and time does not go backwards"
        )
    after = _effect(state, transition)
    entry = HistoryEntry(
        seq=len(state.history) + 1,
        at=transition.at,
        event=event,
        from_status=state.status,
        to_status=after.status,
        phase=after.phase,
        attempt=after.attempt,
        rule=getattr(transition, "rule", None),
        explanation=getattr(transition, "explanation", None),
        actor=getattr(transition, "actor", None),
        reason=getattr(transition, "reason", None),
        transition=transition,
    )
    return replace(after, history=(*state.history, entry))


def replay(initial: Challenge, transitions: Iterable[Transition]) -> Challenge:
    return functools.reduce(apply, transitions, initial)


def journal(state: Challenge) -> tuple[Transition, ...]:
    """The transitions that made ``state`` (replayed from its initial state, they rebuild it)."""
    return tuple(entry.transition for entry in state.history)


def _trading(state: Challenge) -> str:
    return FUNDED if state.kind == FUNDED else ACTIVE


def _passes(state: Challenge) -> bool:
    return state.kind == EVALUATION and state.phase + 1 < len(state.phases)


def _effect(state: Challenge, t: Transition) -> Challenge:
    match t:
        case Paid():
            return replace(state, status=PROVISIONING)
        case Provisioned():
            return replace(state, status=_trading(state), account=t.account)
        case Paused():
            return replace(state, status=PAUSED, paused_by=t.rule)
        case Resumed():
            if t.rule != state.paused_by:
                raise LifecycleError(
                    f"cannot 'resumed' a paused challenge by rule {t.rule!r}: it is paused by "
                    f"{state.paused_by!r}, and only that rule resumes it"
                )
            return replace(state, status=_trading(state), paused_by=None)
        case Breached():
            return replace(state, status=FAILED, paused_by=None)
        case Expired():
            return replace(state, status=EXPIRED, paused_by=None)
        case Passed() | Advance():
            return replace(state, status=PASSED, paused_by=None)
        case NextPhase():
            return _new_account(state, phase=state.phase + 1, attempt=1)
        case Reset() | Scaled():
            return _new_account(state, phase=state.phase, attempt=state.attempt + 1)
        case Cancelled() | Refunded():
            return replace(state, status=CANCELLED, paused_by=None)
        case Reinstate():
            return replace(state, status=_trading(state))
        case Extend():
            # An expired phase reopens; a running or paused one just gets the later deadline.
            status = _trading(state) if state.status == EXPIRED else state.status
            return replace(state, status=status, extension_days=state.extension_days + t.days)
        case Rebind():
            if t.version_hash == state.version_hash:
                raise LifecycleError(
                    f"cannot 'rebind' {_a(state.status)} challenge to {t.version_hash}: it is "
                    "already pinned to that version"
                )
            return replace(state, version_hash=t.version_hash)
    raise LifecycleError(f"{type(t).__name__} is not a lifecycle transition")


def _new_account(state: Challenge, *, phase: int, attempt: int) -> Challenge:
    # A new phase or attempt trades on a new account, against a new deadline.
    return replace(
        state,
        status=PROVISIONING,
        phase=phase,
        attempt=attempt,
        account=None,
        paused_by=None,
        extension_days=0,
    )


def _check_fields(t: Transition) -> None:
    event = t.event
    if t.at.tzinfo is None or t.at.utcoffset() is None:
        raise LifecycleError(f"{event!r} needs an aware time (with its timezone), got {t.at}")
    if isinstance(t, OperatorAction) and not (t.actor.strip() and t.reason.strip()):
        raise LifecycleError(f"{event!r} is an operator action: it needs an actor and a reason")
    problem = None
    match t:
        case Provisioned() if not t.account:
            problem = "the platform account"
        case Paused() | Resumed() | Breached() | Expired() if not t.rule:
            problem = "the id of the rule that decided"
        case Cancelled() | Refunded() if not t.reason.strip():
            problem = "a reason"
        case Rebind() if not t.version_hash:
            problem = "the content hash of the product version to pin"
        case Scaled() if not _positive(t.balance):
            problem = f"the new balance as a positive decimal (got {t.balance!r})"
        case Extend() if t.days <= 0:
            problem = f"a number of days above 0 (got {t.days})"
    if problem:
        raise LifecycleError(f"{event!r} needs {problem}")


def _positive(text: str) -> bool:
    try:
        return Decimal(text) > 0
    except (InvalidOperation, TypeError):
        return False


def _refusal(state: Challenge, event: str) -> str:
    status = state.status
    head = f"cannot {event!r} {_a(status)} challenge"
    if event not in EVENTS:
        return f"{head}: {event!r} is not a lifecycle event ({', '.join(EVENTS)})"
    takes = _listed(allowed(state))
    if event in _TAKES[status]:  # the status would take it; the phase does not
        where = f"phase {state.phase + 1} of {len(state.phases)} is {state.kind}"
        if event in _PASSING:
            why = f"{where}, and only an evaluation phase followed by another phase passes"
        elif event == "scaled":
            why = f"{where}, and only a funded or instant-funded account scales"
        else:
            why = f"{where}, and a funded phase has no deadline"
        return f"{head}: {why}; it takes {takes}"
    if not takes:
        return f"{head}: {_a(status)} challenge takes nothing more"
    return f"{head}: {_a(status)} challenge only takes {takes}"


def _listed(events: set[str]) -> str:
    return ", ".join(event for event in EVENTS if event in events)


def _a(status: str) -> str:
    return f"an {status}" if status[0] in "aeiou" else f"a {status}"
