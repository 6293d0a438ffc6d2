"""Balance operations (payout withdrawals, deposits) are not trading results in any rule.

A withdrawal is not a day's loss (the day-start anchors move with it) and takes no progress
away; a deposit is not profit. The maximum-loss floor stays where the contract puts it: E8
keeps a trailed floor after a payout and FTMO's is fixed from the initial balance
(``test_max_loss``), so a payout uses up headroom rather than restoring it.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers_targets import make, run, trade
from rulekit import evaluate, objective, opened, rule, snap

TEN_PERCENT = {"percent": "10", "of": "initial_balance"}
FTMO_DAILY = {"anchor": "day_start_balance", "amount": {"percent": "5", "of": "initial_balance"}}

OPEN = "2026-03-02T08:00:00+01:00"
PEAK = "2026-03-02T21:00:00+01:00"  # day 1 (00:00 Europe/Prague days) ends at its balance
DRAWDOWN = "2026-03-03T09:00:00+01:00"
OPERATION = "2026-03-03T10:00:00+01:00"
LATER = "2026-03-03T11:00:00+01:00"
NEXT_DAY = "2026-03-04T00:30:00+01:00"


def balance(time: str, amount: str, comment: str = "payout") -> dict[str, Any]:
    return {"type": "balance", "time": time, "amount": amount, "comment": comment}


def test_a_withdrawal_at_the_reset_instant_belongs_to_both_days_consistently() -> None:
    # The reset at 00:00 Prague is decided after an event at that very instant.
    rules = [rule("daily_loss", FTMO_DAILY), rule("max_loss", {"amount": TEN_PERCENT})]
    rows = [opened(OPEN), snap(PEAK, "110000"), balance("2026-03-03T00:00:00+01:00", "-10000")]
    run_ = evaluate(rules, rows, DRAWDOWN)
    assert run_.status == "active"
    assert objective(run_, "daily_loss")["floor"] == "95000.00"  # 100,000 at the reset - 5,000
    assert objective(run_, "max_loss")["floor"] == "90000.00"  # (110,000 - 10,000) - 10,000


@pytest.mark.parametrize("measure", ["balance", "equity"])
def test_a_withdrawal_does_not_take_profit_target_progress_away(measure: str) -> None:
    params = {"amount": TEN_PERCENT, "measure": measure}
    rows = [
        opened(OPEN),
        *trade("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00", "1", "6000"),
        balance("2026-03-02T11:00:00+01:00", "-6000"),
    ]
    evaluation = run([make("profit_target", params)], rows)
    found = objective(evaluation, "profit_target")
    assert (found["current"], found["progress"], found["remaining"]) == (
        "100000.00",
        "6000.00",
        "4000.00",
    )
    assert (found["target_level"], found["balance_operations"]) == ("104000.00", "-6000.00")
    rows += trade("2026-03-02T12:00:00+01:00", "2026-03-02T13:00:00+01:00", "2", "3999.99")
    assert run([make("profit_target", params)], rows).status == "active"
    rows[-1]["profit"] = "4000"
    assert run([make("profit_target", params)], rows).status == "passed"


@pytest.mark.parametrize("measure", ["balance", "equity"])
def test_a_deposit_is_not_profit_target_progress(measure: str) -> None:
    params = {"amount": TEN_PERCENT, "measure": measure}
    rows = [opened(OPEN), balance("2026-03-02T11:00:00+01:00", "10000", "deposit")]
    evaluation = run([make("profit_target", params)], rows)
    assert evaluation.status == "active"
    found = objective(evaluation, "profit_target")
    assert (found["status"], found["progress"], found["target_level"]) == (
        "not_met",
        "0.00",
        "120000.00",
    )


def test_day_and_total_profit_rules_count_deals_not_balance_operations() -> None:
    rules = [
        make("consistency", {"limit": "50"}),
        make("min_trading_days", {"count": 2, "counts": "day_profit", "threshold": {"fixed": "1"}}),
    ]
    rows = [
        opened(OPEN),
        *trade("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00", "1", "1000"),
        balance("2026-03-03T10:00:00+01:00", "50000", "deposit"),
        balance("2026-03-03T11:00:00+01:00", "-40000", "payout"),
    ]
    evaluation = run(rules, rows, NEXT_DAY)
    consistency = objective(evaluation, "consistency")
    assert (consistency["total_profit"], consistency["best"]) == ("1000.00", "1000.00")
    assert objective(evaluation, "min_trading_days")["days"] == ["2026-03-02"]
