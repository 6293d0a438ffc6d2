"""Maximum position size: lots per order and lots open at once."""

from __future__ import annotations

from helpers_guards import deal, notices, problems
from rulekit import context, evaluate, objective, opened, rule

from propdesk.rules.families.max_position import MaxPosition

OPEN = opened("2026-03-02T08:00:00Z")
E8 = {"max_lots_per_order": "50"}
TOPSTEP = {"max_open_lots": "5"}


def test_an_order_exactly_at_the_maximum_is_allowed_one_above_fails() -> None:
    run = evaluate(
        [rule("max_position", E8)], [OPEN, deal("2026-03-02T09:00:00Z", "1", volume="50")]
    )
    assert run.status == "active"
    run = evaluate(
        [rule("max_position", E8)], [OPEN, deal("2026-03-02T09:00:00Z", "1", volume="50.01")]
    )
    assert run.status == "failed"
    assert run.verdict()["decided_at"] == "2026-03-02T09:00:00Z"
    assert run.verdict()["explanation"] == (
        "Buy EURUSD 50.01 lots (deal 1-in-2026-03-02T09:00:00Z): the order of 50.01 lots is "
        "above the maximum of 50 lots per order."
    )


def test_open_lots_add_up_across_positions_and_orders() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "1", volume="2", symbol="ES"),
        deal("2026-03-02T09:01:00Z", "2", volume="3", symbol="NQ", side="sell"),
    ]
    run = evaluate([rule("max_position", TOPSTEP)], rows)
    assert run.status == "active"  # 5 open: at the maximum
    assert objective(run, "max_position")["open_lots"] == "5.00"

    run = evaluate(
        [rule("max_position", TOPSTEP)], [*rows, deal("2026-03-02T09:02:00Z", "1", volume="1")]
    )
    assert run.status == "failed"
    assert run.verdict()["explanation"] == (
        "Buy EURUSD 1 lot (deal 1-in-2026-03-02T09:02:00Z): it brings the open volume to "
        "6 lots, above the maximum of 5 lots open at once."
    )


def test_lots_closed_make_room_for_new_orders() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "1", volume="5"),
        deal("2026-03-02T09:05:00Z", "1", "out", volume="2"),
        deal("2026-03-02T09:06:00Z", "2", volume="2"),
    ]
    run = evaluate([rule("max_position", TOPSTEP)], rows)
    assert run.status == "active"
    assert run.rules[0].objective(run.account) == {
        "status": "ok",
        "largest_order": "5.00",
        "open_lots": "5.00",
        "peak_open_lots": "5.00",
        "max_lots_per_order": None,
        "max_open_lots": "5.00",
        "offences": 0,
        "text": "at most 5 lots open",
    }


def test_a_closing_deal_is_never_an_order_even_when_large() -> None:
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "1", volume="30"),
        deal("2026-03-02T09:01:00Z", "1", volume="30"),
        deal("2026-03-02T10:00:00Z", "1", "out", volume="60"),
    ]
    run = evaluate([rule("max_position", E8)], rows)
    assert run.status == "active"
    assert objective(run, "max_position")["largest_order"] == "30.00"


def test_both_limits_broken_by_one_order_are_named_together() -> None:
    params = {"max_lots_per_order": "2", "max_open_lots": "3"}
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "1", volume="2"),
        deal("2026-03-02T09:01:00Z", "2", volume="2.5", side="sell", id="77"),
    ]
    run = evaluate([rule("max_position", params)], rows)
    assert run.verdict()["explanation"] == (
        "Sell EURUSD 2.5 lots (deal 77): the order of 2.5 lots is above the maximum of 2 lots "
        "per order and it brings the open volume to 4.5 lots, above the maximum of 3 lots open "
        "at once."
    )
    assert run.history[-1]["rule"] == "max_position"


def test_warn_records_every_offending_order_and_trading_goes_on() -> None:
    params = {**E8, "severity": "warn"}
    rows = [
        OPEN,
        deal("2026-03-02T09:00:00Z", "1", volume="60"),
        deal("2026-03-02T09:01:00Z", "2", volume="10"),
        deal("2026-03-02T09:02:00Z", "3", volume="51"),
    ]
    run = evaluate([rule("max_position", params)], rows)
    assert run.status == "active"
    assert [n["time"] for n in notices(run, "warn")] == [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:02:00Z",
    ]
    found = objective(run, "max_position")
    assert (found["status"], found["offences"], found["largest_order"]) == ("warned", 2, "60.00")


def test_parameters() -> None:
    assert problems("max_position", E8) == []
    assert problems("max_position", {**TOPSTEP, **E8, "severity": "warn"}) == []
    assert problems("max_position", {}) != []  # at least one maximum
    assert problems("max_position", {**E8, "severity": "pause"}) != []
    assert problems("max_position", {"max_lots_per_order": 50}) != []  # decimals are strings
    assert problems("max_position", {**E8, "max_lots": "5"}) != []


def test_rulebook() -> None:
    assert MaxPosition.describe(E8, context()) == (
        "A single order may open at most 50 lots. Going above fails the account."
    )
    assert MaxPosition.describe({**TOPSTEP, **E8, "severity": "warn"}, context()) == (
        "A single order may open at most 50 lots; at most 5 lots may be open at once across "
        "all positions. Going above is recorded as a warning."
    )
