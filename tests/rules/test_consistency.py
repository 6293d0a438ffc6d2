"""Consistency: the published worked examples, day and trade scope, pass and payout checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from helpers_targets import deal, make, objective, opened, phase, run, schema_errors, trade

from propdesk.rules.families.consistency import Consistency

OPEN = "2026-03-02T08:00:00+01:00"  # Monday, Prague


def days(*profits: str, start: int = 2) -> list[dict[str, Any]]:
    """One closed trade per day from 2 March 2026, with the given profits."""
    rows: list[dict[str, Any]] = []
    for index, profit in enumerate(profits):
        day = f"2026-03-{start + index:02d}"
        rows.extend(trade(f"{day}T10:00:00+01:00", f"{day}T11:00:00+01:00", f"p{day}", profit))
    return rows


@pytest.mark.parametrize("limit", ["40", "50"])
def test_topstep_best_day_900_of_2800_is_32_percent(limit: str) -> None:
    rules = [
        make("profit_target", {"amount": {"fixed": "2800"}}),
        make("consistency", {"limit": limit}),
    ]
    evaluation = run(rules, [opened(OPEN), *days("900", "700", "600", "600")])
    assert evaluation.status == "passed"
    assert evaluation.verdict()["decided_at"] == "2026-03-05T10:00:00Z"
    assert evaluation.verdict()["explanation"] == (
        "Every objective is met: profit 2,800.00 reached the 2,800.00 target; "
        f"best day 900.00 is 32% of 2,800.00 total profit; at most {limit}%."
    )
    found = objective(evaluation, "consistency")
    assert (found["best"], found["best_day"], found["ratio_percent"]) == (
        "900.00",
        "2026-03-02",
        "32.14",
    )


def test_the_day_that_makes_the_best_day_small_enough_is_when_it_passes() -> None:
    # After three days the best day (900 of 2,100) is 43%: more than 40%.
    three = run([make("consistency", {"limit": "40"})], [opened(OPEN), *days("900", "700", "500")])
    assert three.status == "active"
    assert objective(three, "consistency")["text"] == (
        "best day 900.00 is 43% of 2,100.00 total profit; at most 40%: "
        "keep trading until total profit reaches 2,250.00"
    )
    passed = run(
        [make("consistency", {"limit": "40"})], [opened(OPEN), *days("900", "700", "500", "150")]
    )
    assert passed.status == "passed"
    assert passed.verdict()["decided_at"] == "2026-03-05T10:00:00Z"


E8 = {"limit": "40", "checked_at": "payout"}


def test_e8_best_4000_of_8000_refuses_a_payout_until_total_profit_reaches_10000() -> None:
    rows = [opened(OPEN), *days("4000", "2000", "2000")]
    evaluation = run([make("consistency", E8)], rows)
    found = objective(evaluation, "consistency")
    assert (found["role"], found["status"], found["ratio_percent"]) == (
        "guard",
        "payout_refused",
        "50.00",
    )
    assert (found["allowed_best"], found["min_total_profit"]) == ("3200.00", "10000.00")
    assert found["text"] == (
        "best day 4,000.00 is 50% of 8,000.00 total profit; at most 40%: "
        "a payout needs a total profit of at least 10,000.00"
    )
    assert evaluation.status == "active"  # a payout condition never decides the account

    short = run([make("consistency", E8)], [*rows, *days("1999.99", start=5)])
    assert objective(short, "consistency")["status"] == "payout_refused"
    enough = run([make("consistency", E8)], [*rows, *days("1999.99", "0.01", start=5)])
    found = objective(enough, "consistency")
    assert (found["status"], found["total_profit"]) == ("payout_allowed", "10000.00")


def spread(amount: Decimal, most: Decimal) -> list[str]:
    """``amount`` as daily profits of at most ``most`` each."""
    profits = []
    while amount > 0:
        profits.append(str(min(amount, most)))
        amount -= most
    return profits


@pytest.mark.parametrize(
    ("best", "minimum"), [("1500", "5000.00"), ("1000", "3333.34"), ("2400", "8000.00")]
)
def test_apex_30_percent_minimum_total_is_best_day_divided_by_0_30(best: str, minimum: str) -> None:
    apex = {"limit": "30", "checked_at": "payout"}
    evaluation = run([make("consistency", apex)], [opened(OPEN), *days(best)])
    assert objective(evaluation, "consistency")["min_total_profit"] == minimum
    # Reaching exactly that total allows the payout; a cent less does not.
    rest = Decimal(minimum) - Decimal(best)
    half = Decimal(best) / 2
    allowed = run([make("consistency", apex)], [opened(OPEN), *days(best, *spread(rest, half))])
    short = spread(rest - Decimal("0.01"), half)
    refused = run([make("consistency", apex)], [opened(OPEN), *days(best, *short)])
    assert objective(allowed, "consistency")["status"] == "payout_allowed"
    assert objective(refused, "consistency")["status"] == "payout_refused"
    assert objective(refused, "consistency")["min_total_profit"] == minimum


def test_the_best_day_is_the_day_net_in_the_rule_timezone_not_a_single_trade() -> None:
    rows = [
        opened(OPEN),
        # Tuesday in Prague: 23:30 UTC Monday and 10:00 Tuesday (net 1,000 - 400 = 600).
        *trade("2026-03-02T23:10:00+00:00", "2026-03-02T23:30:00+00:00", "a", "1000"),
        *trade("2026-03-03T09:00:00+01:00", "2026-03-03T10:00:00+01:00", "b", "-400"),
        *trade("2026-03-04T09:00:00+01:00", "2026-03-04T10:00:00+01:00", "c", "700"),
        *trade("2026-03-05T09:00:00+01:00", "2026-03-05T10:00:00+01:00", "d", "500"),
    ]
    found = objective(run([make("consistency", {"limit": "50"})], rows), "consistency")
    assert (found["best"], found["best_day"], found["total_profit"]) == (
        "700.00",
        "2026-03-04",
        "1800.00",
    )
    by_trade = objective(
        run([make("consistency", {"limit": "50", "scope": "trade"})], rows), "consistency"
    )
    assert (by_trade["best"], by_trade["best_trade"]) == ("1000.00", "a")


def test_trade_scope_counts_a_position_when_it_is_closed_completely() -> None:
    params = {"limit": "25", "scope": "trade", "checked_at": "payout"}
    rows = [
        opened(OPEN),
        *trade("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00", "1", "300"),
        *trade("2026-03-02T11:00:00+01:00", "2026-03-02T12:00:00+01:00", "2", "300"),
        *trade("2026-03-02T13:00:00+01:00", "2026-03-02T14:00:00+01:00", "3", "300"),
        *trade("2026-03-02T15:00:00+01:00", "2026-03-02T16:00:00+01:00", "4", "300"),
        deal("2026-03-03T09:00:00+01:00", "big", "in", volume="2"),
        deal("2026-03-03T10:00:00+01:00", "big", "out", "500", volume="1"),
    ]
    partly = objective(run([make("consistency", params)], rows), "consistency")
    # The half-closed position's 500 is in the total, not yet a best trade.
    assert (partly["best"], partly["total_profit"], partly["status"]) == (
        "300.00",
        "1700.00",
        "payout_allowed",
    )
    rows.append(deal("2026-03-03T11:00:00+01:00", "big", "out", "400", volume="1"))
    closed = objective(run([make("consistency", params)], rows), "consistency")
    assert (closed["best"], closed["best_trade"], closed["status"]) == (
        "900.00",
        "big",
        "payout_refused",
    )
    assert closed["text"].startswith("best trade 900.00 is 43% of 2,100.00 total profit")


def test_a_fixed_profit_target_as_denominator() -> None:
    mffu = {"limit": "50", "denominator": "profit_target", "target": {"fixed": "3000"}}
    over = run([make("consistency", mffu)], [opened(OPEN, "50000"), *days("1600", "900", "900")])
    found = objective(over, "consistency")
    assert (found["denominator"], found["allowed_best"], found["min_total_profit"]) == (
        "3000.00",
        "1500.00",
        None,
    )
    assert found["text"] == (
        "best day 1,600.00 is 53% of the 3,000.00 profit target; at most 50% (1,500.00)"
    )
    assert over.status == "active"
    within = run([make("consistency", mffu)], [opened(OPEN, "50000"), *days("1500", "900")])
    assert within.status == "passed"


def test_no_profit_no_consistency() -> None:
    evaluation = run([make("consistency", {"limit": "50"})], [opened(OPEN), *days("-200", "100")])
    found = objective(evaluation, "consistency")
    assert (found["status"], found["ratio_percent"]) == ("not_met", None)
    assert found["text"] == (
        "no total profit yet (-100.00); the best day may be at most 50% of total profit"
    )


def test_rounding_never_hides_which_side_of_the_limit_the_share_is() -> None:
    evaluation = run([make("consistency", {"limit": "50"})], [opened(OPEN), *days("5040", "4960")])
    assert objective(evaluation, "consistency")["text"].startswith(
        "best day 5,040.00 is 50.4% of 10,000.00 total profit; at most 50%"
    )


def test_consequence_fail_fails_when_it_is_the_last_objective_left() -> None:
    rules = [
        make("profit_target", {"amount": {"fixed": "3000"}}),
        make("consistency", {"limit": "40", "consequence": "fail"}),
    ]
    evaluation = run(rules, [opened(OPEN), *days("2000", "600"), *days("600", start=5)])
    assert evaluation.status == "failed"
    assert evaluation.verdict()["rule"] == "consistency"
    assert evaluation.verdict()["explanation"] == (
        "Consistency was not met when every other objective was: best day 2,000.00 is 63% of "
        "3,200.00 total profit; at most 40%: keep trading until total profit reaches 5,000.00."
    )

    waiting = [
        make("profit_target", {"amount": {"fixed": "3000"}}),
        make("consistency", {"limit": "40"}),
    ]
    assert run(waiting, [opened(OPEN), *days("2000", "600", "600")]).status == "active"


def test_describe() -> None:
    assert Consistency.describe({"limit": "50"}, phase()) == (
        "To pass, your best day may be at most 50% of your total profit. Days start at 00:00 "
        "Europe/Prague. If it is more, keep trading: with a best day of 1,000.00 you need a "
        "total profit of at least 2,000.00."
    )
    apex = Consistency.describe({"limit": "30", "checked_at": "payout"}, phase())
    assert apex.startswith("To request a payout, your best day may be at most 30%")
    assert apex.endswith("you need a total profit of at least 3,333.34.")


def test_schema_and_parameter_refusals() -> None:
    assert schema_errors("consistency", {"limit": "40"}) == []
    assert schema_errors("consistency", {"limit": "40", "denominator": "profit_target"})
    assert schema_errors("consistency", {"limit": "40", "target": {"fixed": "3000"}})
    assert schema_errors(
        "consistency", {"limit": "40", "checked_at": "payout", "consequence": "fail"}
    )
    assert schema_errors("consistency", {"limit": 40})
    with pytest.raises(ValueError, match="limit 0 must be more than 0"):
        make("consistency", {"limit": "0"})
    with pytest.raises(ValueError, match="consequence fail applies only when checked_at is pass"):
        make("consistency", {"limit": "40", "checked_at": "payout", "consequence": "fail"})
    assert make("consistency", {"limit": "40"}).role == "target"
    assert make("consistency", E8).role == "guard"
