"""Profit target: closed balance or equity, flat accounts, excluded profit, the explanation."""

from __future__ import annotations

from typing import Any, ClassVar

from helpers_targets import (
    deal,
    make,
    objective,
    opened,
    phase,
    run,
    schema_errors,
    snap,
    trade,
)

from propdesk.rules.account import Account
from propdesk.rules.events import Deal, Event
from propdesk.rules.families.profit_target import ProfitTarget
from propdesk.rules.family import Finding, RuleFamily

TEN_PERCENT = {"amount": {"percent": "10", "of": "initial_balance"}}
OPEN = "2026-03-02T09:00:00+01:00"


def test_the_target_is_met_at_exactly_the_amount_and_the_account_passes() -> None:
    short = run(
        [make("profit_target", TEN_PERCENT)],
        [
            opened(OPEN),
            *trade("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", "1", "9999.99"),
        ],
    )
    assert short.status == "active"
    found = objective(short, "profit_target")
    assert (found["status"], found["progress"], found["remaining"]) == (
        "not_met",
        "9999.99",
        "0.01",
    )
    assert found["text"] == "profit 9,999.99 of the 10,000.00 target (99%); 0.01 to go"

    reached = run(
        [make("profit_target", TEN_PERCENT)],
        [
            opened(OPEN),
            *trade("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", "1", "10000"),
        ],
    )
    assert reached.status == "passed"
    assert reached.verdict()["decided_at"] == "2026-03-02T10:00:00Z"
    assert reached.verdict()["explanation"] == (
        "Every objective is met: profit 10,000.00 reached the 10,000.00 target."
    )


def test_closed_balance_ignores_floating_profit_and_equity_counts_it() -> None:
    rows = [opened(OPEN), snap("2026-03-02T10:00:00+01:00", "100000", "112000")]
    assert run([make("profit_target", TEN_PERCENT)], rows).status == "active"
    lark = {**TEN_PERCENT, "measure": "equity"}
    assert run([make("profit_target", lark)], rows).status == "passed"


def test_with_flat_required_the_target_waits_until_every_position_is_closed() -> None:
    ftmo = {**TEN_PERCENT, "flat_required": True}
    rows = [
        opened(OPEN),
        deal("2026-03-02T10:00:00+01:00", "1", "in", volume="2"),
        # Half the position closes with the whole target in profit; the other half stays open.
        deal("2026-03-02T11:00:00+01:00", "1", "out", "10500", volume="1"),
    ]
    waiting = run([make("profit_target", ftmo)], rows)
    assert waiting.status == "active"
    found = objective(waiting, "profit_target")
    assert (found["status"], found["open_positions"]) == ("not_met", 1)
    assert found["text"] == (
        "profit 10,500.00 reached the 10,000.00 target; close the 1 open position for it to count"
    )
    # Without flat_required the same history passes at once.
    assert run([make("profit_target", TEN_PERCENT)], rows).status == "passed"

    closed = run(
        [make("profit_target", ftmo)],
        [*rows, deal("2026-03-02T12:00:00+01:00", "1", "out", "-100", volume="1")],
    )
    assert closed.status == "passed"
    assert closed.verdict()["decided_at"] == "2026-03-02T11:00:00Z"


def test_a_fixed_amount_and_the_progress_in_numbers() -> None:
    topstep = {"amount": {"fixed": "3000"}}
    rows = [
        opened("2026-03-02T09:00:00-06:00", "50000"),
        *trade("2026-03-02T10:00:00-06:00", "2026-03-02T11:00:00-06:00", "1", "1250"),
    ]
    found = objective(run([make("profit_target", topstep)], rows), "profit_target")
    assert found == {
        "rule": "profit_target",
        "family": "profit_target",
        "role": "target",
        "status": "not_met",
        "measure": "balance",
        "current": "51250.00",
        "target": "3000.00",
        "target_level": "53000.00",
        "progress": "1250.00",
        "progress_percent": "41.66",
        "remaining": "1750.00",
        "excluded_profit": "0.00",
        "balance_operations": "0.00",
        "flat_required": False,
        "open_positions": 0,
        "text": "profit 1,250.00 of the 3,000.00 target (41%); 1,750.00 to go",
    }


class ExcludeNewsProfit(RuleFamily):
    """Stands in for a news rule: excludes the profit of every closed position on 'NEWS'."""

    code = "exclude_news"
    display_name = "Exclude news profit"
    settings_schema: ClassVar[dict[str, Any]] = {}
    reacts_to = frozenset({"deal"})

    def __init__(self) -> None:
        super().__init__("news", {}, phase())

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if isinstance(event, Deal) and account.closed and account.closed[0].startswith("news"):
            return self.finding("exclude_profit", event.time, "news", amount=event.net)
        return None


def test_profit_another_rule_excluded_does_not_count() -> None:
    rows = [
        opened(OPEN),
        *trade("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", "news-1", "4000"),
        *trade("2026-03-02T12:00:00+01:00", "2026-03-02T13:00:00+01:00", "2", "8000"),
    ]
    evaluation = run([ExcludeNewsProfit(), make("profit_target", TEN_PERCENT)], rows)
    assert evaluation.status == "active"
    found = objective(evaluation, "profit_target")
    assert (found["progress"], found["target_level"], found["remaining"]) == (
        "8000.00",
        "114000.00",
        "2000.00",
    )


def test_describe() -> None:
    ftmo = {**TEN_PERCENT, "flat_required": True}
    assert ProfitTarget.describe({"amount": {"fixed": "3000"}}, phase()) == (
        "Reach a profit of 3,000.00 USD on your closed balance. "
        "Profit excluded by another rule does not count; deposits do not count and payouts "
        "do not reduce it."
    )
    assert "with every position closed" in ProfitTarget.describe(ftmo, phase())
    assert "on your equity (floating profit counts)" in ProfitTarget.describe(
        {**TEN_PERCENT, "measure": "equity"}, phase()
    )


def test_schema_defaults_and_refusals() -> None:
    schema = ProfitTarget.settings_schema["properties"]
    assert (schema["measure"]["default"], schema["flat_required"]["default"]) == (
        "balance",
        False,
    )
    assert schema_errors("profit_target", TEN_PERCENT) == []
    assert schema_errors("profit_target", {"amount": {"percent": 10, "of": "initial_balance"}})
    assert schema_errors("profit_target", {**TEN_PERCENT, "measure": "floating"})
    assert schema_errors("profit_target", {})


def test_equity_snapshots_crossing_the_target_both_ways_are_seen() -> None:
    # Every snapshot below the target changes nothing; the one exactly at it is decisive.
    lark = {**TEN_PERCENT, "measure": "equity"}
    below = [snap(f"2026-03-02T1{n}:00:00+01:00", "100000", f"10{n}000") for n in range(10)]
    rows = [opened(OPEN), deal("2026-03-02T09:30:00+01:00", "1", "in"), *below]
    assert run([make("profit_target", lark)], rows).status == "active"
    at_target = snap("2026-03-02T20:00:00+01:00", "100000", "110000")
    assert run([make("profit_target", lark)], [*rows, at_target]).status == "passed"

    # With another objective still open, equity that falls back no longer counts.
    two_days = {"count": 2}
    fell_back = [
        at_target,
        snap("2026-03-02T21:00:00+01:00", "100000", "109999.99"),
        deal("2026-03-03T09:00:00+01:00", "2", "in"),
    ]
    rules = [make("profit_target", lark), make("min_trading_days", two_days)]
    evaluation = run(rules, [*rows, *fell_back[:2]])
    assert objective(evaluation, "profit_target")["status"] == "not_met"
    evaluation = run(
        [make("profit_target", lark), make("min_trading_days", two_days)], [*rows, *fell_back]
    )
    assert evaluation.status == "active"
    assert objective(evaluation, "profit_target")["remaining"] == "0.01"
