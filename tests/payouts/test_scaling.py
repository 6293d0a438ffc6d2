"""The scaling plan reviewed at a payout (FTMO-style: 4-month cycles, 10% net profit, 2
payouts, +25% of the original balance up to a maximum, split to 90%)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from propdesk.payouts.scaling import ScalingReview, review

PLAN = {
    "cycle_months": 4,
    "min_profit_percent": "10",
    "min_payouts": 2,
    "balance_increase_percent": "25",
    "split_percent": "90",
    "max_balance": "2000000",
}
FUNDED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def facts(**values: object) -> ScalingReview:
    base: dict[str, object] = {
        "now": datetime(2026, 5, 20, tzinfo=UTC),
        "cycle_start": FUNDED,
        "initial_balance": Decimal("100000"),
        "size_balance": Decimal("100000"),
        "balance": Decimal("100000"),
        "paid_profits": [Decimal("6000"), Decimal("4500.50")],
    }
    return ScalingReview(**{**base, **values})  # type: ignore[arg-type]


def test_a_cycle_that_meets_the_plan_grows_the_account_and_the_split() -> None:
    decision = review(PLAN, facts())
    assert decision.scales
    assert (decision.balance, decision.split_percent) == (Decimal("125000.00"), Decimal(90))
    assert "10.50% net profit and 2 payouts" in decision.explanation


def test_each_unmet_criterion_says_why_with_the_numbers() -> None:
    early = review(PLAN, facts(now=datetime(2026, 5, 10, tzinfo=UTC)))
    assert not early.scales and "ends on 2026-05-15" in early.explanation
    short = review(PLAN, facts(paid_profits=[Decimal("6000"), Decimal("3999.99")]))
    assert not short.scales
    assert "9,999.99 is 9.99% of 100,000.00; the plan needs 10%" in short.explanation
    one = review(PLAN, facts(paid_profits=[Decimal("12000")]))
    assert not one.scales and "1 payouts in the cycle; the plan needs 2" in one.explanation
    down = review(PLAN, facts(balance=Decimal("99000")))
    assert not down.scales and "99,000.00 is below the start 100,000.00" in down.explanation
    assert not review(None, facts()).scales


def test_growth_is_of_the_original_size_and_stops_at_the_maximum() -> None:
    grown = review(
        PLAN,
        facts(
            initial_balance=Decimal("1950000"),
            size_balance=Decimal("200000"),
            balance=Decimal("2000000"),
            paid_profits=[Decimal("150000"), Decimal("50000")],
        ),
    )
    assert grown.balance == Decimal("2000000")
    capped = review(
        PLAN,
        facts(
            initial_balance=Decimal("2000000"),
            size_balance=Decimal("200000"),
            balance=Decimal("2000000"),
            paid_profits=[Decimal("150000"), Decimal("60000")],
        ),
    )
    assert not capped.scales and "at the plan's maximum" in capped.explanation
