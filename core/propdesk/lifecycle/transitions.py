"""What can happen to a challenge: one frozen dataclass per event, named as the firm says it.

Each transition carries the instant it happened (``at``, an aware datetime) and only the facts
its event needs. The engine reports breaches, pauses, expiries and passes with the rule and its
explanation; the trader pays, resets and cancels; the platform reports an account provisioned.
Operator actions always name who acted and why: the audit trail needs both.

Fields are checked by ``machine.apply``, not here, so that every refusal reads the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Transition:
    """Something that happened to a challenge at ``at``."""

    event: ClassVar[str]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class OperatorAction(Transition):
    """A decision by staff: permission-checked by the caller, audited, never without a reason."""

    actor: str
    reason: str


# -- the trader, the platform and the engine ------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Paid(Transition):
    event = "paid"


@dataclass(frozen=True, kw_only=True)
class Provisioned(Transition):
    """The platform account of the current phase exists and trades."""

    event = "provisioned"
    account: str


@dataclass(frozen=True, kw_only=True)
class Paused(Transition):
    """A soft breach: trading stops until the rule's reset (``Resumed`` by the same rule)."""

    event = "paused"
    rule: str
    explanation: str


@dataclass(frozen=True, kw_only=True)
class Resumed(Transition):
    event = "resumed"
    rule: str
    explanation: str = ""


@dataclass(frozen=True, kw_only=True)
class Breached(Transition):
    event = "breached"
    rule: str
    explanation: str


@dataclass(frozen=True, kw_only=True)
class Expired(Transition):
    event = "expired"
    rule: str
    explanation: str


@dataclass(frozen=True, kw_only=True)
class Passed(Transition):
    """Every objective of the phase is met (the explanation says so in numbers)."""

    event = "passed"
    explanation: str


@dataclass(frozen=True, kw_only=True)
class NextPhase(Transition):
    event = "next_phase"


@dataclass(frozen=True, kw_only=True)
class Reset(Transition):
    """The trader bought a new attempt at the same phase; the old attempt stays in history."""

    event = "reset"


@dataclass(frozen=True, kw_only=True)
class Scaled(Transition):
    """A payout met the scaling plan: the funded phase goes on, at the next attempt, on a new
    and larger account (``balance``, a decimal string) with limits computed from it."""

    event = "scaled"
    balance: str
    explanation: str


@dataclass(frozen=True, kw_only=True)
class Cancelled(Transition):
    """The order was dropped before payment (abandoned, refused by the PSP, withdrawn)."""

    event = "cancelled"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Refunded(Transition):
    """The fee was refunded or charged back: the challenge closes and its account stops."""

    event = "refunded"
    reason: str


# -- operator actions -----------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Reinstate(OperatorAction):
    """Undo a failure or an expiry: the same phase and account trade again."""

    event = "reinstate"


@dataclass(frozen=True, kw_only=True)
class Extend(OperatorAction):
    """Grant ``days`` more before the phase's deadline (reopens an expired phase)."""

    event = "extend"
    days: int


@dataclass(frozen=True, kw_only=True)
class Advance(OperatorAction):
    """Pass the phase by hand, whatever its objectives say."""

    event = "advance"


@dataclass(frozen=True, kw_only=True)
class Rebind(OperatorAction):
    """Pin another published version of the product (its content hash)."""

    event = "rebind"
    version_hash: str


#: Every transition, in the order a challenge usually meets them (refusals list events so).
TRANSITIONS: tuple[type[Transition], ...] = (
    Paid,
    Provisioned,
    Paused,
    Resumed,
    Breached,
    Expired,
    Passed,
    NextPhase,
    Reset,
    Scaled,
    Cancelled,
    Refunded,
    Reinstate,
    Extend,
    Advance,
    Rebind,
)
EVENTS: tuple[str, ...] = tuple(kind.event for kind in TRANSITIONS)
OPERATOR_ACTIONS = frozenset(kind.event for kind in TRANSITIONS if issubclass(kind, OperatorAction))
