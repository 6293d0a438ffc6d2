"""Per-trade loss: a position's whole net result, judged once it is fully closed."""

from __future__ import annotations

from helpers_guards import deal, notices, problems
from rulekit import context, evaluate, objective, opened, rule

from propdesk.rules.families.per_trade_loss import PerTradeLoss

OPEN = opened("2026-03-02T08:00:00Z")
FIXED = {"amount": {"fixed": "1000"}}
PERCENT = {"amount": {"percent": "1.5", "of": "initial_balance"}}


def closed_with(profit: str, commission: str = "0", swap: str = "0") -> list[dict[str, object]]:
    return [
        OPEN,
        deal("2026-03-02T09:00:00Z", "7"),
        deal(
            "2026-03-02T10:00:00Z",
            "7",
            "out",
            profit=profit,
            commission=commission,
            swap=swap,
        ),
    ]


def test_a_loss_exactly_at_the_limit_is_allowed_a_cent_more_fails() -> None:
    assert evaluate([rule("per_trade_loss", FIXED)], closed_with("-1000")).status == "active"
    run = evaluate([rule("per_trade_loss", FIXED)], closed_with("-1000.01"))
    assert run.status == "failed"
    assert run.verdict()["decided_at"] == "2026-03-02T10:00:00Z"
    assert run.verdict()["explanation"] == (
        "Position 7 (buy EURUSD) closed with a net loss of 1,000.01 USD, more than the limit "
        "of 1,000.00 USD per trade (1,000.00 USD)."
    )


def test_commission_and_swap_are_part_of_the_trade() -> None:
    run = evaluate([rule("per_trade_loss", FIXED)], closed_with("-990", "-7", "-3.01"))
    assert run.status == "failed"
    assert run.history[-1]["rule"] == "per_trade_loss"


def test_the_limit_as_a_percentage_of_the_initial_balance() -> None:
    assert evaluate([rule("per_trade_loss", PERCENT)], closed_with("-1500")).status == "active"
    run = evaluate([rule("per_trade_loss", PERCENT)], closed_with("-1500.5"))
    assert run.status == "failed"
    assert "more than the limit of 1,500.00 USD per trade (1.5" in run.verdict()["explanation"]
    assert run.verdict()["explanation"].endswith("% of the initial balance).")


def test_partial_closes_of_one_position_add_up() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "7", volume="2", commission="-5"),
        deal("2026-03-02T09:30:00Z", "7", "out", volume="1", profit="-600"),
        deal("2026-03-02T10:00:00Z", "7", "out", volume="1", profit="-400"),
    ]
    # Each part alone is within the limit; the trade as a whole lost 1,005.00.
    run = evaluate([rule("per_trade_loss", FIXED)], rows[:3])
    assert run.status == "active"
    run = evaluate([rule("per_trade_loss", FIXED)], rows)
    assert run.status == "failed"
    assert run.verdict()["decided_at"] == "2026-03-02T10:00:00Z"
    assert run.verdict()["explanation"].startswith(
        "Position 7 (buy EURUSD) closed over 2 closing deals with a net loss of 1,005.00 USD"
    )


def test_a_floating_loss_is_not_judged_before_the_position_closes() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "7"),
        {
            "type": "snapshot",
            "time": "2026-03-02T09:30:00Z",
            "balance": "100000",
            "equity": "97000",
        },
    ]
    assert evaluate([rule("per_trade_loss", FIXED)], rows).status == "active"


def test_separate_positions_are_separate_trades() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "7"),
        deal("2026-03-02T09:00:00Z", "8"),
        deal("2026-03-02T10:00:00Z", "7", "out", profit="-800"),
        deal("2026-03-02T10:00:00Z", "8", "out", profit="-800"),
    ]
    run = evaluate([rule("per_trade_loss", FIXED)], rows)
    assert run.status == "active"
    found = objective(run, "per_trade_loss")
    assert (found["worst_trade"], found["closed_trades"]) == ("-800.00", 2)


def test_warn_records_each_losing_trade_and_keeps_the_worst() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "7"),
        deal("2026-03-02T09:10:00Z", "7", "out", profit="-1200"),
        deal("2026-03-02T09:20:00Z", "8"),
        deal("2026-03-02T09:30:00Z", "8", "out", profit="250"),
        deal("2026-03-02T09:40:00Z", "9"),
        deal("2026-03-02T09:50:00Z", "9", "out", profit="-2500"),
    ]
    run = evaluate([rule("per_trade_loss", {**FIXED, "severity": "warn"})], rows)
    assert run.status == "active"
    assert [n["time"] for n in notices(run, "warn")] == [
        "2026-03-02T09:10:00Z",
        "2026-03-02T09:50:00Z",
    ]
    found = objective(run, "per_trade_loss")
    assert (found["status"], found["worst_trade"], found["worst_position"]) == (
        "warned",
        "-2500.00",
        "9",
    )
    assert found["text"] == "at most 1,000.00 loss per trade (worst so far 2,500.00)"


def test_parameters() -> None:
    assert problems("per_trade_loss", FIXED) == []
    assert problems("per_trade_loss", {**PERCENT, "severity": "warn"}) == []
    assert problems("per_trade_loss", {}) != []
    assert problems("per_trade_loss", {"amount": {"percent": "2", "of": "equity"}}) != []
    assert problems("per_trade_loss", {**FIXED, "severity": "pause"}) != []


def test_rulebook() -> None:
    assert PerTradeLoss.describe(FIXED, context()) == (
        "No single trade may lose more than 1,000.00 USD. A trade's result is the profit, "
        "commission and swap of all its deals, partial closes added together, counted when the "
        "position is fully closed. A bigger loss fails the account."
    )
    warned = PerTradeLoss.describe({**PERCENT, "severity": "warn"}, context())
    assert "of the initial balance" in warned
    assert warned.endswith("A bigger loss is recorded as a warning.")
