"""The scaling plan at a payout: does the account grow now, to what, and why (pure, no I/O).

A plan (``scaling`` in the product, after add-ons) reads: every ``cycle_months`` months, if the
account made at least ``min_profit_percent`` net profit over the cycle (the profit of the
payouts paid in it, against the account's starting balance), received at least
``min_payouts`` payouts, and its balance is not below its start, its balance grows by
``balance_increase_percent`` of the size's original balance (up to ``max_balance``) and the
split becomes ``split_percent``. The review happens when a payout is paid, as FTMO checks with
each reward; a cycle starts at funding or at the last scaling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from propdesk.rules.money import CENT, HUNDRED, money


@dataclass(frozen=True, slots=True)
class ScalingReview:
    """The facts at the payout: the cycle and what was paid in it."""

    now: datetime
    cycle_start: datetime
    #: The balance the current account started with, and the size's original balance.
    initial_balance: Decimal
    size_balance: Decimal
    #: The account's balance after the payout's withdrawal.
    balance: Decimal
    #: The profit of each payout paid in the cycle (as counted when it was requested).
    paid_profits: Sequence[Decimal]


@dataclass(frozen=True, slots=True)
class ScalingDecision:
    scales: bool
    explanation: str
    balance: Decimal | None = None
    split_percent: Decimal | None = None


def add_months(start: datetime, months: int) -> datetime:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, 28))


def review(plan: Mapping[str, Any] | None, facts: ScalingReview) -> ScalingDecision:
    """Whether the plan scales the account now; every "no" says which criterion and numbers."""
    if not plan:
        return ScalingDecision(False, "the product has no scaling plan")
    months = int(plan["cycle_months"])
    due = add_months(facts.cycle_start, months)
    if facts.now < due:
        return ScalingDecision(
            False,
            f"the {months}-month cycle that began on {facts.cycle_start.date().isoformat()} "
            f"ends on {due.date().isoformat()}",
        )
    profit = sum(facts.paid_profits, Decimal(0))
    needed = Decimal(str(plan["min_profit_percent"]))
    exact = profit / facts.initial_balance * HUNDRED
    # Shown rounded down, compared exactly: 9.999% neither reads nor counts as 10%.
    made = exact.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if exact < needed:
        return ScalingDecision(
            False,
            f"net profit over the cycle {money(profit)} is {made}% of "
            f"{money(facts.initial_balance)}; the plan needs {needed}%",
        )
    payouts = len(facts.paid_profits)
    if payouts < int(plan.get("min_payouts", 0)):
        return ScalingDecision(
            False, f"{payouts} payouts in the cycle; the plan needs {plan['min_payouts']}"
        )
    if facts.balance < facts.initial_balance:
        return ScalingDecision(
            False,
            f"the balance {money(facts.balance)} is below the start {money(facts.initial_balance)}",
        )
    step = (facts.size_balance * Decimal(str(plan["balance_increase_percent"])) / HUNDRED).quantize(
        CENT
    )
    target = facts.initial_balance + step
    ceiling = Decimal(str(plan["max_balance"])) if "max_balance" in plan else None
    if ceiling is not None and target > ceiling:
        target = ceiling
    if target <= facts.initial_balance:
        return ScalingDecision(
            False, f"the balance {money(facts.initial_balance)} is at the plan's maximum"
        )
    split = Decimal(str(plan["split_percent"])) if "split_percent" in plan else None
    return ScalingDecision(
        True,
        f"{made}% net profit and {payouts} payouts over the cycle: the account grows from "
        f"{money(facts.initial_balance)} to {money(target)}"
        + (f" and the split becomes {split}%" if split is not None else ""),
        balance=target,
        split_percent=split,
    )
