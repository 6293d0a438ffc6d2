"""The evaluator: decisions are final and explained as they stood when they were taken."""

from __future__ import annotations

from rulekit import evaluate, objective, opened, rule, snap

DAILY = {"amount": {"percent": "5", "of": "initial_balance"}}
TARGET = {"amount": {"percent": "10", "of": "initial_balance"}}


def test_a_failed_account_stays_failed_and_its_objectives_stay_as_at_the_breach() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "94000"),
        snap("2026-03-02T11:00:00+01:00", "112000", "112000"),  # later profit changes nothing
    ]
    run = evaluate([rule("daily_loss", DAILY), rule("profit_target", TARGET)], rows)
    assert run.status == "failed"
    assert [entry["status"] for entry in run.history] == ["active", "failed"]
    assert objective(run, "daily_loss")["current"] == "94000.00"
    assert objective(run, "profit_target")["status"] == "not_met"
    assert run.verdict()["account"]["equity"] == "112000.00"  # the facts still move


def test_a_target_met_at_once_passes_at_the_opening() -> None:
    run = evaluate(
        [rule("profit_target", {"amount": {"fixed": "0"}})], [opened("2026-03-02T09:00:00+01:00")]
    )
    assert run.status == "passed"
    assert run.verdict()["decided_at"] == "2026-03-02T08:00:00Z"


def test_a_pass_needs_every_target_and_lists_them() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "110000", "110000"),
    ]
    days = {"count": 1, "counts": "position_opened"}
    waiting = evaluate([rule("profit_target", TARGET), rule("min_trading_days", days)], rows)
    assert waiting.status == "active"
    passed = evaluate([rule("profit_target", TARGET)], rows)
    assert passed.status == "passed"
    assert passed.verdict()["explanation"].startswith("Every objective is met: ")
