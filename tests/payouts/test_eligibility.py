"""Payout eligibility: the policy of the product read against the account's numbers; every
refusal names its rule and the numbers, a cap limits without refusing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.payouts.eligibility import PayoutCase, next_allowed, quote, split_for

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = {
    "split_percent": "80",
    "split_tiers": [{"from_payout": 3, "split_percent": "90"}],
    "first_after_days": 14,
    "cadence": "biweekly",
    "min_amount": "50.00",
    "flat_required": True,
    "consistency": {"best_day_max_percent": "50"},
}
CASE = PayoutCase(
    now=NOW,
    funded_at=NOW - timedelta(days=30),
    initial_balance=Decimal("100000"),
    balance=Decimal("113100"),
    open_positions=0,
    daily_profits=[
        (date(2026, 11, 10), Decimal("4000")),
        (date(2026, 11, 12), Decimal("5000")),
        (date(2026, 11, 14), Decimal("4100")),
    ],
)


def reasons(q) -> dict[str, str]:
    return {r.rule: r.message for r in q.refusals}


def test_an_eligible_payout_is_the_split_of_the_profit() -> None:
    q = quote(POLICY, CASE)
    assert q.eligible and q.refusals == ()
    assert (q.profit, q.split_percent, q.trader_share, q.firm_share) == (
        Decimal("13100"),
        Decimal("80"),
        Decimal("10480.00"),
        Decimal("2620.00"),
    )
    assert q.payable == Decimal("10480.00")


def test_the_consistency_refusal_reads_as_the_firm_says_it() -> None:
    lopsided = replace(
        CASE,
        daily_profits=[
            (date(2026, 11, 12), Decimal("8000")),
            (date(2026, 11, 13), Decimal("5100")),
        ],
    )
    q = quote(POLICY, lopsided)
    assert not q.eligible and q.payable == 0
    assert reasons(q)["consistency"].startswith(
        "best day 8,000.00 is 61% of 13,100.00 total profit; at most 50%"
    )


@pytest.mark.parametrize(
    ("changes", "rule", "words"),
    [
        (
            {"funded_at": NOW - timedelta(days=3)},
            "first_after_days",
            "the first payout comes 14 days after funding: funded on 2026-11-18, eligible from "
            "2026-12-02",
        ),
        (
            {"last_payout_at": NOW - timedelta(days=5), "payouts_paid": 1},
            "cadence",
            "payouts are biweekly: the last was on 2026-11-16, the next is possible from "
            "2026-11-30",
        ),
        ({"open_positions": 2}, "flat_required", "close every position first: 2 open"),
        (
            {"balance": Decimal("99500"), "daily_profits": []},
            "profit",
            "no profit to pay: the balance 99,500.00 is not above the starting 100,000.00",
        ),
        (
            {"balance": Decimal("100040"), "daily_profits": []},
            "min_amount",
            "the payout 32.00 is below the minimum 50.00",
        ),
    ],
)
def test_every_refusal_names_its_rule_and_numbers(changes: dict, rule: str, words: str) -> None:
    q = quote(POLICY, replace(CASE, **changes))
    assert reasons(q)[rule] == words


def test_kyc_is_rechecked_at_payout() -> None:
    product = {"payout": {**POLICY, "kyc_required": True}}
    q = quote(POLICY, replace(CASE, kyc_status="rejected_final"), product=product)
    assert "contact support" in reasons(q)["kyc"]
    assert quote(POLICY, CASE, product=product).eligible


def test_a_cap_limits_what_is_paid_and_says_so() -> None:
    q = quote({**POLICY, "profit_cap_percent": "5", "consistency": None}, CASE)
    assert q.eligible and q.counted == Decimal("5000.00") and q.trader_share == Decimal("4000.00")
    assert "capped at 5,000.00 (5% of 100,000.00)" in q.notes[0]


def test_tiers_raise_the_split_and_the_fee_comes_back_with_its_payout() -> None:
    assert [split_for(POLICY, n) for n in (1, 2, 3, 7)] == [Decimal(80)] * 2 + [Decimal(90)] * 2
    third = replace(
        CASE, payouts_paid=2, last_payout_at=NOW - timedelta(days=15), fee_paid=Decimal("595.00")
    )
    q = quote(POLICY, third, fee_refund_with=3)
    assert (q.split_percent, q.fee_refund, q.payable) == (
        Decimal(90),
        Decimal("595.00"),
        Decimal("11790.00") + Decimal("595.00"),
    )


def test_monthly_cadence_is_the_same_day_next_month() -> None:
    monthly = {**POLICY, "cadence": "monthly", "first_after_days": 0}
    last = datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    assert next_allowed(monthly, replace(CASE, last_payout_at=last)).date() == date(2027, 1, 28)


@given(
    balance=st.decimals(min_value=90000, max_value=130000, places=2),
    split=st.decimals(min_value=0, max_value=100, places=0),
)
def test_shares_never_exceed_the_profit_counted(balance: Decimal, split: Decimal) -> None:
    q = quote(
        {
            **POLICY,
            "split_percent": str(split),
            "split_tiers": [],
            "consistency": None,
            "min_amount": "0",
        },
        replace(CASE, balance=balance),
    )
    assert q.trader_share + q.firm_share == q.counted
    assert Decimal(0) <= q.trader_share <= q.counted
    assert q.payable == (q.trader_share if q.eligible else 0)
