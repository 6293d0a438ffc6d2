"""Payout eligibility: one function the quote and the request both call. Pure: no I/O.

``quote(policy, case)`` reads the funded account's numbers against the payout policy of its
product (after add-ons: ``catalogue.product.effective_terms``) and answers what may be paid now,
or why not. Every refusal names its rule and the numbers behind it, in the firm's words ("best
day 8,000.00 is 61% of 13,100.00 total profit; at most 50%"). A cap does not refuse: it limits
what is paid and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from propdesk.kyc.gates import held
from propdesk.rules.money import CENT, HUNDRED, money

#: Days between payouts for each cadence (``monthly``: the same day of the next month).
CADENCE_DAYS = {"weekly": 7, "biweekly": 14}


@dataclass(frozen=True, slots=True)
class PayoutCase:
    """The funded account's numbers, read when the quote is asked for."""

    now: datetime
    funded_at: datetime
    initial_balance: Decimal
    balance: Decimal
    open_positions: int
    #: Closed profit per trading day since the last payout (or since funding).
    daily_profits: Sequence[tuple[date, Decimal]] = ()
    #: Payouts paid before this one.
    payouts_paid: int = 0
    last_payout_at: datetime | None = None
    kyc_status: str = "approved"
    #: The challenge fee the trader paid (refunded with the payout the product names).
    fee_paid: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Quote:
    """What may be paid now, or why not; ``payable`` is zero when refused."""

    profit: Decimal
    #: The profit the split applies to (after the cap).
    counted: Decimal
    split_percent: Decimal
    trader_share: Decimal
    firm_share: Decimal
    fee_refund: Decimal
    refusals: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return not self.refusals

    @property
    def payable(self) -> Decimal:
        return self.trader_share + self.fee_refund if self.eligible else Decimal(0)


def split_for(policy: Mapping[str, Any], payout_number: int) -> Decimal:
    """The trader's percent for the ``payout_number``-th payout (tiers from the product)."""
    percent = Decimal(str(policy.get("split_percent", "0")))
    for tier in sorted(policy.get("split_tiers") or (), key=lambda t: int(t["from_payout"])):
        if payout_number >= int(tier["from_payout"]):
            percent = Decimal(str(tier["split_percent"]))
    return percent


def next_allowed(policy: Mapping[str, Any], case: PayoutCase) -> datetime:
    """The first moment a payout may be requested under the waiting period and the cadence."""
    first = case.funded_at + timedelta(days=int(policy.get("first_after_days", 0)))
    last, cadence = case.last_payout_at, policy.get("cadence", "on_demand")
    if last is None or cadence == "on_demand":
        return first
    if cadence == "monthly":
        month = last.month % 12 + 1
        year = last.year + (last.month == 12)
        day = min(last.day, 28)
        return max(first, last.replace(year=year, month=month, day=day))
    return max(first, last + timedelta(days=CADENCE_DAYS[str(cadence)]))


def quote(
    policy: Mapping[str, Any],
    case: PayoutCase,
    *,
    product: Mapping[str, Any] | None = None,
    fee_refund_with: int | None = None,
) -> Quote:
    """What the payout policy allows now for ``case`` (see the module docstring)."""
    refusals: list[Refusal] = []
    notes: list[str] = []
    number = case.payouts_paid + 1
    if product is not None and (why := held(product, "payout", case.kyc_status)) is not None:
        refusals.append(Refusal("kyc", why))
    allowed_from = next_allowed(policy, case)
    if case.now < allowed_from:
        rule = "first_after_days" if case.last_payout_at is None else "cadence"
        refusals.append(Refusal(rule, _wait_message(policy, case, allowed_from)))
    if policy.get("flat_required", True) and case.open_positions:
        refusals.append(
            Refusal("flat_required", f"close every position first: {case.open_positions} open")
        )
    profit = case.balance - case.initial_balance
    if profit <= 0:
        refusals.append(
            Refusal(
                "profit",
                f"no profit to pay: the balance {money(case.balance)} is not above the starting "
                f"{money(case.initial_balance)}",
            )
        )
    counted = max(profit, Decimal(0))
    if (cap := policy.get("profit_cap_percent")) is not None:
        ceiling = (case.initial_balance * Decimal(str(cap)) / HUNDRED).quantize(CENT)
        if counted > ceiling:
            notes.append(
                f"profit {money(counted)} is capped at {money(ceiling)} ({cap}% of "
                f"{money(case.initial_balance)}) this cycle"
            )
            counted = ceiling
    consistency = policy.get("consistency")
    if consistency is not None and profit > 0:
        limit = Decimal(str(consistency["best_day_max_percent"]))
        refusals += _consistency(limit, case, profit)
    split = split_for(policy, number)
    share = (counted * split / HUNDRED).quantize(CENT, rounding=ROUND_DOWN)
    minimum = Decimal(str(policy.get("min_amount", "0")))
    if profit > 0 and share < minimum:
        refusals.append(
            Refusal(
                "min_amount", f"the payout {money(share)} is below the minimum {money(minimum)}"
            )
        )
    refund = case.fee_paid if fee_refund_with == number else Decimal(0)
    if refund:
        notes.append(f"the challenge fee {money(refund)} is refunded with payout {number}")
    return Quote(
        profit=profit,
        counted=counted,
        split_percent=split,
        trader_share=share,
        firm_share=counted - share,
        fee_refund=refund,
        refusals=tuple(refusals),
        notes=tuple(notes),
    )


def _wait_message(policy: Mapping[str, Any], case: PayoutCase, allowed_from: datetime) -> str:
    when = allowed_from.date().isoformat()
    if case.last_payout_at is None:
        days = int(policy.get("first_after_days", 0))
        return (
            f"the first payout comes {days} days after funding: funded on "
            f"{case.funded_at.date().isoformat()}, eligible from {when}"
        )
    return (
        f"payouts are {policy.get('cadence')}: the last was on "
        f"{case.last_payout_at.date().isoformat()}, the next is possible from {when}"
    )


def _consistency(limit: Decimal, case: PayoutCase, profit: Decimal) -> list[Refusal]:
    if not case.daily_profits:
        return []
    best_day, best = max(case.daily_profits, key=lambda item: item[1])
    share = (best / profit * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if best / profit * HUNDRED <= limit:
        return []
    return [
        Refusal(
            "consistency",
            f"best day {money(best)} is {share}% of {money(profit)} total profit; at most "
            f"{_percent(limit)}% (the best day was {best_day.isoformat()})",
        )
    ]


def _percent(value: Decimal) -> str:
    """``50`` for 50.00, ``12.5`` for 12.50: a percent as people write it."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
