"""Minimum trading days: which days count, in which timezone, and when a day is decided."""

from __future__ import annotations

import pytest
from helpers_targets import deal, make, objective, opened, phase, run, schema_errors, trade

from propdesk.rules.families.min_trading_days import MinTradingDays

FTMO = {"count": 4}
OPEN = "2026-03-02T08:00:00+01:00"  # Monday


def test_ftmo_counts_opening_days_in_prague_and_a_multi_day_position_once() -> None:
    rows = [
        opened(OPEN),
        # Monday: a position held until Thursday, topped up on Thursday (neither counts again).
        deal("2026-03-02T10:00:00+01:00", "long", "in"),
        deal("2026-03-05T09:00:00+01:00", "long", "in"),
        deal("2026-03-05T15:00:00+01:00", "long", "out", "300", volume="2"),
        # 23:30 UTC on Monday is 00:30 on Tuesday in Prague: a Tuesday.
        *trade("2026-03-02T23:30:00+00:00", "2026-03-02T23:45:00+00:00", "t1", "50"),
        *trade("2026-03-04T11:00:00+01:00", "2026-03-04T12:00:00+01:00", "w1", "-20"),
        *trade("2026-03-04T13:00:00+01:00", "2026-03-04T14:00:00+01:00", "w2", "10"),
    ]
    three = run([make("min_trading_days", FTMO)], rows)
    found = objective(three, "min_trading_days")
    assert found["days"] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert (found["counted"], found["remaining"], found["status"]) == (3, 1, "not_met")
    assert found["text"] == "3 of 4 trading days; 1 to go"
    assert three.status == "active"

    four = run(
        [make("min_trading_days", FTMO)],
        [*rows, deal("2026-03-06T09:30:00+01:00", "f1", "in")],
    )
    assert objective(four, "min_trading_days")["days"][-1] == "2026-03-06"
    assert four.status == "passed"
    assert four.verdict()["decided_at"] == "2026-03-06T08:30:00Z"


def test_position_closed_counts_the_day_of_a_complete_close_only() -> None:
    params = {"count": 2, "counts": "position_closed"}
    rows = [
        opened(OPEN),
        deal("2026-03-02T10:00:00+01:00", "1", "in", volume="2"),
        deal("2026-03-03T10:00:00+01:00", "1", "out", "100", volume="1"),  # partial close
        deal("2026-03-04T10:00:00+01:00", "1", "out", "100", volume="1"),
    ]
    found = objective(run([make("min_trading_days", params)], rows), "min_trading_days")
    assert found["days"] == ["2026-03-04"]


FIVERS = {
    "count": 3,
    "counts": "day_profit",
    "threshold": {"percent": "0.5", "of": "initial_balance"},
}


def test_a_profitable_day_counts_at_the_threshold_and_is_decided_at_its_end() -> None:
    rows = [
        opened(OPEN),
        *trade("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", "a", "600"),
        # Tuesday reaches 600 in the morning, then gives back 200 before the day ends.
        *trade("2026-03-03T09:00:00+01:00", "2026-03-03T10:00:00+01:00", "b", "600"),
    ]
    morning = run([make("min_trading_days", FIVERS)], rows)
    found = objective(morning, "min_trading_days")
    assert found["days"] == ["2026-03-02", "2026-03-03"]
    assert found["today"] == {
        "day": "2026-03-03",
        "net": "600.00",
        "counts_for_now": True,
        "decided_at": "2026-03-03T23:00:00Z",
    }

    rows.extend(trade("2026-03-03T15:00:00+01:00", "2026-03-03T16:00:00+01:00", "c", "-200"))
    afternoon = run([make("min_trading_days", FIVERS)], rows)
    assert objective(afternoon, "min_trading_days")["days"] == ["2026-03-02"]

    # The day ends with no event after it: decided at midnight in Prague.
    night = run([make("min_trading_days", FIVERS)], rows, "2026-03-04T00:00:00+01:00")
    found = objective(night, "min_trading_days")
    assert (found["days"], found["today"]) == (["2026-03-02"], None)

    # Wednesday nets exactly 500.00 (0.5% of 100,000): it counts.
    rows.extend(trade("2026-03-04T09:00:00+01:00", "2026-03-04T10:00:00+01:00", "d", "500"))
    wednesday = run([make("min_trading_days", FIVERS)], rows, "2026-03-05T00:00:00+01:00")
    assert objective(wednesday, "min_trading_days")["days"] == ["2026-03-02", "2026-03-04"]


def test_a_day_that_stays_above_the_threshold_counts_for_good() -> None:
    rows = [
        opened(OPEN),
        *trade("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", "a", "600"),
        *trade("2026-03-03T10:00:00+01:00", "2026-03-03T11:00:00+01:00", "b", "700"),
    ]
    evaluation = run([make("min_trading_days", FIVERS)], rows, "2026-03-10T00:00:00+01:00")
    found = objective(evaluation, "min_trading_days")
    assert (found["days"], found["today"], found["remaining"]) == (
        ["2026-03-02", "2026-03-03"],
        None,
        1,
    )


def test_the_account_passes_during_the_day_that_reaches_the_count() -> None:
    rows = [
        opened(OPEN),
        *trade("2026-03-02T10:00:00+01:00", "2026-03-02T10:30:00+01:00", "a", "600"),
        *trade("2026-03-03T10:00:00+01:00", "2026-03-03T10:30:00+01:00", "b", "550"),
        *trade("2026-03-04T10:00:00+01:00", "2026-03-04T10:30:00+01:00", "c", "400"),
        *trade("2026-03-04T12:00:00+01:00", "2026-03-04T12:30:00+01:00", "d", "150"),
    ]
    evaluation = run([make("min_trading_days", FIVERS)], rows)
    assert evaluation.status == "passed"
    assert evaluation.verdict()["decided_at"] == "2026-03-04T11:30:00Z"
    assert evaluation.verdict()["explanation"] == "Every objective is met: 3 of 3 trading days."


def test_a_deal_at_the_day_boundary_belongs_to_the_new_day() -> None:
    rows = [
        opened(OPEN),
        deal("2026-03-02T22:00:00+01:00", "a", "in"),
        deal("2026-03-03T00:00:00+01:00", "a", "out", "600"),
    ]
    found = objective(run([make("min_trading_days", FIVERS)], rows), "min_trading_days")
    assert found["days"] == ["2026-03-03"]


def test_days_follow_the_rule_day_across_a_daylight_saving_change() -> None:
    # CME day: 17:00 Chicago. US clocks go forward on 8 March 2026 (CST -6 -> CDT -5).
    params = {"count": 2, "day": {"time": "17:00", "timezone": "America/Chicago"}}
    rows = [
        opened("2026-03-06T09:00:00-06:00"),
        deal("2026-03-09T16:59:00-05:00", "a", "in"),  # 9 March's session, opened 8 March 17:00
        deal("2026-03-09T17:00:00-05:00", "b", "in"),  # 10 March's (22:00 UTC, not 23:00)
    ]
    found = objective(run([make("min_trading_days", params)], rows), "min_trading_days")
    assert found["days"] == ["2026-03-09", "2026-03-10"]


def test_describe() -> None:
    assert MinTradingDays.describe(FTMO, phase()) == (
        "Trade on at least 4 different days: a day counts when you open a position on it "
        "(a position held over several days counts only on the day it was opened). "
        "Days start at 00:00 Europe/Prague."
    )
    topstep = {"count": 5, "counts": "day_profit", "threshold": {"fixed": "100"}}
    text = MinTradingDays.describe(topstep, phase())
    assert "a day counts when its closed trades net at least 100.00 USD" in text
    assert text.endswith("A day that ends below that does not count.")


def test_schema_needs_a_threshold_exactly_for_day_profit() -> None:
    assert schema_errors("min_trading_days", FTMO) == []
    assert schema_errors("min_trading_days", FIVERS) == []
    assert schema_errors("min_trading_days", {"count": 3, "counts": "day_profit"})
    assert schema_errors("min_trading_days", {"count": 3, "threshold": {"fixed": "100"}})
    assert schema_errors("min_trading_days", {"count": 0})
    with pytest.raises(ValueError, match="threshold is needed when, and only when"):
        make("min_trading_days", {"count": 3, "counts": "day_profit"})
