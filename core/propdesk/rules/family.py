"""What a rule family is: parameters with a JSON Schema, an evaluator, and an explanation.

A family is a class; the engine makes one instance per rule of an account's phase and feeds it
the account's events in order. Everything is a deterministic function of the events and the
parameters: no clock, no I/O, no randomness. Time-based rules name the next instant they must
be decided at (``next_due``) and the evaluator calls ``on_due`` then, even if no event arrives.

A vendor's family subclasses ``RuleFamily`` and registers it through
``propdesk_register_rule_families``; the standard families in ``propdesk.rules.families`` are
written the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from propdesk.rules.account import Account
from propdesk.rules.clock import LOCAL_TIME_SCHEMA, LocalTime
from propdesk.rules.events import Event
from propdesk.rules.money import NON_NEGATIVE_DECIMAL, PERCENT, money, parse_decimal, pct, plain

#: ``(equity_low, equity_high, balance_low, balance_high)``, see ``RuleFamily.quiet_band``.
Band = tuple[Decimal, Decimal, Decimal, Decimal]
LOW, HIGH = Decimal("-Infinity"), Decimal("Infinity")
ANYTHING: Band = (LOW, HIGH, LOW, HIGH)

#: What a finding does to the account's status.
Outcome = Literal["breach", "pause", "resume", "expire", "warn", "exclude_profit"]
#: ``limit``: can only fail the account; ``target``: must be met to pass; ``guard``: neither.
Role = Literal["limit", "target", "guard"]


#: JSON Schema of an amount: a percentage of a base, or a fixed amount of account currency.
def amount_schema(*bases: str) -> dict[str, Any]:
    """JSON Schema of an amount: a percentage of one of ``bases``, or a fixed amount."""
    return {
        "type": "object",
        "oneOf": [
            {
                "required": ["percent", "of"],
                "properties": {"percent": PERCENT, "of": {"enum": list(bases)}},
                "additionalProperties": False,
            },
            {
                "required": ["fixed"],
                "properties": {"fixed": NON_NEGATIVE_DECIMAL},
                "additionalProperties": False,
            },
        ],
    }


AMOUNT_SCHEMA = amount_schema("initial_balance")
#: A floor rule's ``tolerance``: money the measure may sit below the floor (absorbs rounding).
TOLERANCE_SCHEMA = {**NON_NEGATIVE_DECIMAL, "default": "0"}
DEFAULT_DAY = {"time": "00:00", "timezone": "UTC"}
SEVERITY_FAIL_OR_WARN = {"enum": ["fail", "warn"], "default": "fail"}


@dataclass(frozen=True, slots=True)
class PhaseContext:
    """What every rule of a phase knows besides its own parameters."""

    product: str = ""
    phase: str = ""
    currency: str = "USD"
    #: The product's trading day: when days start and in which timezone.
    trading_day: LocalTime = field(default_factory=lambda: LocalTime.parse(DEFAULT_DAY))


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a rule decided, with the numbers that made it."""

    rule: str
    outcome: Outcome
    time: datetime
    explanation: str
    numbers: Mapping[str, str] = field(default_factory=dict)
    amount: Decimal | None = None


class RuleFamily:
    """Base of every rule family. Subclasses set the class attributes and override hooks."""

    code: ClassVar[str]
    display_name: ClassVar[str]
    #: JSON Schema (2020-12) of the rule's ``params``.
    settings_schema: ClassVar[dict[str, Any]]
    role: Role = "limit"
    #: Event types the rule looks at; others skip it (the hot path is one comparison).
    reacts_to: frozenset[str] = frozenset()
    #: True when the rule has decisions due at instants of its own (resets, deadlines).
    timed: bool = False

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        self.id = rule_id
        self.params = params
        self.context = context
        #: Targets: whether the objective is met now.
        self.met = False
        #: Targets: fail the account (instead of waiting) when this is all that is left unmet.
        self.fails_when_alone_unmet = False

    # -- evaluation ---------------------------------------------------------------------------
    def start(self, account: Account, at: datetime) -> Finding | None:
        """The account opened (``account`` holds the initial balance)."""
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        """``event`` was applied to ``account``; decide."""
        return None

    def next_due(self) -> datetime | None:
        """The next instant this rule must be decided at, even with no event then."""
        return None

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        """``at`` (the instant ``next_due`` named) has come; decide."""
        return None

    def reopen(self, at: datetime, account: Account) -> None:
        """An operator reinstated the decided account at ``at``: forget this rule's breach.

        Dues that fell while the account was decided have already been run (without deciding
        anything) when this is called, so the rule's day-start values and marks are current.
        """

    def extend(self, days: int, at: datetime, account: Account) -> None:
        """An operator gave the account ``days`` more calendar days at ``at``."""

    def quiet_band(self) -> Band | None:
        """Equity and balance ranges within which a snapshot changes nothing for this rule.

        ``(equity_low, equity_high, balance_low, balance_high)``, bounds included. While a
        snapshot stays inside every rule's band the evaluator skips the rules: an equity update
        costs a comparison. ``None`` (the default) means the rule must see every snapshot.
        """
        return None

    # -- explanation --------------------------------------------------------------------------
    def objective(self, account: Account) -> dict[str, Any]:
        """The rule's state in numbers (floors, progress), as JSON values."""
        return {}

    def unmet_explanation(self, account: Account) -> str:
        """Why an unmet target that ``fails_when_alone_unmet`` failed the account."""
        return f"{self.display_name} was not met when every other objective was."

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        """One or two sentences for the trader's rulebook, from the parameters alone."""
        return cls.display_name

    # -- helpers for subclasses ---------------------------------------------------------------
    def local_time(self, key: str) -> LocalTime:
        """A ``{time, timezone}`` parameter, or the product's trading day when absent."""
        spec = self.params.get(key)
        return LocalTime.parse(spec) if spec else self.context.trading_day

    def finding(
        self,
        outcome: Outcome,
        at: datetime,
        explanation: str,
        amount: Decimal | None = None,
        **numbers: Decimal | str,
    ) -> Finding:
        shown = {k: (plain(v) if isinstance(v, Decimal) else v) for k, v in numbers.items()}
        return Finding(self.id, outcome, at, explanation, shown, amount)


def amount_of(spec: Mapping[str, Any], initial_balance: Decimal) -> Decimal:
    """An ``AMOUNT_SCHEMA`` value in account currency."""
    if "fixed" in spec:
        return parse_decimal(spec["fixed"])
    return initial_balance * parse_decimal(spec["percent"]) / 100


def describe_amount(spec: Mapping[str, Any], currency: str) -> str:
    if "fixed" in spec:
        return f"{money(parse_decimal(spec['fixed']))} {currency}"
    return f"{pct(parse_decimal(spec['percent']))} of the initial balance"


def measure_schema(default: str) -> dict[str, Any]:
    """A rule's ``measure``: live equity (floating P/L, commissions, swaps) or closed balance."""
    return {"enum": ["equity", "balance"], "default": default}


def local_time_schema(description: str) -> dict[str, Any]:
    return {**LOCAL_TIME_SCHEMA, "description": description}
