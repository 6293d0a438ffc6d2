"""Published worked examples of firms' rules, replayed through ``propdesk replay --json``.

Each vector is ``golden/<name>.product.json`` (its ``description`` quotes the source's numbers
and names the source) with one or more ``golden/<name>[.<variant>].events.jsonl`` histories.
Floors at a given moment are read by replaying the history as it stood then (its first N
events) up to ``--until``. Where a source gives a rule but no numbers, the test says which
numbers are ours. ``golden/README.md`` lists what could not become a vector, and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from replaykit import Golden, objective


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


# -- maximum loss ---------------------------------------------------------------------------


def test_ftmo_one_step_maximum_loss_days_1_to_3(tmp: Path) -> None:
    """FTMO 1-Step, $100,000: day 1 limit $90,000; EOD balance $104,000 -> day 2 $94,000;
    EOD balance $103,000 -> day 3 stays $94,000 (ftmo.com/au/?p=1671)."""
    vector = Golden("ftmo-one-step-max-loss", "challenge", tmp)
    # Day 1, after the $4,000 win closed: intraday results do not move the limit.
    day1 = vector.replay(first=3, until="2026-03-02T23:59:59+01:00")
    assert objective(day1, "max_loss")["floor"] == "90000.00"
    # Midnight CET between day 1 and day 2: balance $104,000.
    day2 = vector.replay(first=3, until="2026-03-03T00:00:00+01:00")
    found = objective(day2, "max_loss")
    assert (found["floor"], found["high_water_mark"]) == ("94000.00", "104000.00")
    # Midnight between day 2 and day 3: balance $103,000, the limit stays.
    day3 = vector.replay(first=5, until="2026-03-04T00:00:00+01:00")
    assert day3["account"]["balance"] == "103000.00"
    assert objective(day3, "max_loss")["floor"] == "94000.00"
    assert day3["status"] == "active"


def test_ftmo_one_step_equity_at_the_limit_holds_and_a_cent_below_fails(tmp: Path) -> None:
    vector = Golden("ftmo-one-step-max-loss", "challenge", tmp)
    at_limit = vector.replay(first=7)
    assert at_limit["status"] == "active"
    assert objective(at_limit, "max_loss")["headroom"] == "0.00"
    result = vector.replay()
    assert (result["status"], result["rule"]) == ("failed", "max_loss")
    assert result["decided_at"] == "2026-03-04T10:05:00Z"
    assert result["explanation"] == (
        "Equity 93,999.99 fell below the maximum-loss floor 94,000.00 (the highest end-of-day "
        "balance 104,000.00 minus the maximum loss 10,000.00)."
    )


def test_the_trading_pit_four_day_end_of_day_trailing_example(tmp: Path) -> None:
    """$100,000, 10% trailing on EOD balance, stops at the starting balance: $90,000; day 1
    EOD $102,000 -> $92,000; day 2 peak $105,000, EOD $104,000 -> $94,000; day 3 EOD $100,000
    -> $94,000; day 4 EOD $106,000 -> $96,000; beyond $110,000 it stays at $100,000
    (thetradingpit.com FAQ). The day-5 EOD balance of $111,000 is ours."""
    vector = Golden("ttp-eod-trailing", "challenge", tmp)
    floors = {
        # (events so far, until): expected floor
        (1, "2026-03-02T08:00:00Z"): "90000.00",
        (3, "2026-03-03T00:00:00Z"): "92000.00",
        (5, "2026-03-03T11:00:00Z"): "92000.00",  # the intraday $105,000 peak does not count
        (7, "2026-03-04T00:00:00Z"): "94000.00",
        (9, "2026-03-05T00:00:00Z"): "94000.00",
        (11, "2026-03-06T00:00:00Z"): "96000.00",
        (13, "2026-03-07T00:00:00Z"): "100000.00",
    }
    for (first, until), floor in floors.items():
        result = vector.replay(first=first, until=until)
        assert objective(result, "max_loss")["floor"] == floor, (first, until)
    balances = {3: "102000.00", 5: "105000.00", 7: "104000.00", 9: "100000.00", 11: "106000.00"}
    for first, balance in balances.items():
        assert vector.replay(first=first)["account"]["balance"] == balance
    last = objective(vector.replay(until="2026-03-07T00:00:00Z"), "max_loss")
    assert (last["high_water_mark"], last["locked"]) == ("111000.00", True)


def test_topstep_maximum_loss_limit_trails_the_end_of_day_high_and_stops_at_start(
    tmp: Path,
) -> None:
    """$50K, $2,000: +$500 -> $50,500, limit $48,500; -$500 -> $50,000, limit stays $48,500;
    +$2,500 -> $52,500, limit $50,000 and stays there (Topstep Help Center). The fourth day's
    +$1,000 is ours. The trading day ends at 5 PM CT."""
    vector = Golden("topstep-max-loss-limit", "challenge", tmp)
    during_day1 = vector.replay(first=3, until="2026-03-02T16:59:00-06:00")
    assert objective(during_day1, "max_loss")["floor"] == "48000.00"
    expected = [
        (3, "2026-03-02T17:00:00-06:00", "50500.00", "48500.00"),
        (5, "2026-03-03T17:00:00-06:00", "50000.00", "48500.00"),
        (7, "2026-03-04T17:00:00-06:00", "52500.00", "50000.00"),
        (9, "2026-03-05T17:00:00-06:00", "53500.00", "50000.00"),
    ]
    for first, until, balance, floor in expected:
        result = vector.replay(first=first, until=until)
        assert result["account"]["balance"] == balance
        assert objective(result, "max_loss")["floor"] == floor, until
    assert objective(vector.replay(until="2026-03-05T17:00:00-06:00"), "max_loss")["locked"]


def test_aqua_instant_standard_trailing_total_drawdown(tmp: Path) -> None:
    """$100,000, 6% trailing on the highest balance: at $105,000 the limit is $99,000
    (help.aquafunded.com, Instant Funding Models). That it stays at $99,000 after a drop to
    $103,000 is Propdesk's rule (a trailing floor never falls); the source text is cut off."""
    vector = Golden("aqua-instant-standard", "funded", tmp)
    peak = vector.replay(first=3)
    assert objective(peak, "max_loss")["floor"] == "99000.00"
    after_drop = vector.replay()
    assert after_drop["account"]["balance"] == "103000.00"
    assert objective(after_drop, "max_loss")["floor"] == "99000.00"


# -- daily loss -----------------------------------------------------------------------------


def test_ftmo_daily_loss_overnight_position_breaches_at_midnight(tmp: Path) -> None:
    """$200,000, 5%: Monday closes +$4,000, so Monday's permitted loss is $14,000; a $13,000
    floating loss is within it until 11:59 PM; at midnight CE(S)T the limit resets to $10,000
    below the $204,000 balance and the same floating loss breaches (academy.ftmo.com)."""
    vector = Golden("ftmo-daily-loss", "challenge", tmp)
    after_win = vector.replay(variant="overnight", first=3)
    found = objective(after_win, "daily_loss")
    assert (found["floor"], found["headroom"]) == ("190000.00", "14000.00")
    before_midnight = vector.replay(variant="overnight", until="2026-06-01T23:59:59+02:00")
    assert before_midnight["status"] == "active"
    assert objective(before_midnight, "daily_loss")["headroom"] == "1000.00"
    result = vector.replay(variant="overnight", until="2026-06-02T00:00:00+02:00")
    assert (result["status"], result["rule"]) == ("failed", "daily_loss")
    # Midnight in Prague is 22:00 UTC in summer (CEST).
    assert result["decided_at"] == "2026-06-01T22:00:00Z"
    assert result["explanation"] == (
        "Equity 191,000.00 fell below the daily-loss floor 194,000.00 (day-start balance "
        "204,000.00 minus the daily loss limit 10,000.00)."
    )


def test_ftmo_daily_loss_after_minus_8000_leaves_2000(tmp: Path) -> None:
    """$200,000: never lose more than $10,000 of equity in a day; after -$8,000 the permitted
    loss for the rest of the day is $2,000 (academy.ftmo.com)."""
    vector = Golden("ftmo-daily-loss", "challenge", tmp)
    after_loss = vector.replay(variant="intraday", first=3)
    assert objective(after_loss, "daily_loss")["headroom"] == "2000.00"
    exactly_10000 = vector.replay(variant="intraday", first=5)
    assert exactly_10000["status"] == "active"
    result = vector.replay(variant="intraday")
    assert (result["status"], result["rule"]) == ("failed", "daily_loss")
    assert result["decided_at"] == "2026-06-01T12:01:00Z"
    assert "Equity 189,999.99 fell below the daily-loss floor 190,000.00" in result["explanation"]


@pytest.mark.parametrize(
    ("variant", "anchor", "limit", "floor"),
    [
        # Example 1: floating +$2,000 at 12am, equity $102,000 -> $98,940 ($102,000 - $3,060).
        ("example-1", "102000.00", "3060.00", "98940.00"),
        # Example 2: floating -$2,000, equity $98,000; the $100,000 balance is higher -> $97,000.
        ("example-2", "100000.00", "3000.00", "97000.00"),
        # Example 3 gives no numbers ("3% of whatever the balance is"); the $1,500 win is ours.
        ("example-3", "101500.00", "3045.00", "98455.00"),
    ],
)
def test_quantum_one_step_daily_loss_examples(
    tmp: Path, variant: str, anchor: str, limit: str, floor: str
) -> None:
    vector = Golden("quantum-one-step", "challenge", tmp)
    first = 3 if variant != "example-3" else None
    next_day = vector.replay(variant=variant, first=first, until="2026-06-02T00:00:00+02:00")
    found = objective(next_day, "daily_loss")
    assert (found["anchor"], found["limit"], found["floor"]) == (anchor, limit, floor)
    assert next_day["status"] == "active"


@pytest.mark.parametrize(
    ("variant", "floor", "measure"),
    [("example-1", "98,940.00", "98,939.99"), ("example-2", "97,000.00", "96,999.99")],
)
def test_quantum_equity_may_touch_the_limit_but_not_fall_below(
    tmp: Path, variant: str, floor: str, measure: str
) -> None:
    vector = Golden("quantum-one-step", "challenge", tmp)
    assert vector.replay(variant=variant, first=4)["status"] == "active"
    result = vector.replay(variant=variant)
    assert (result["status"], result["rule"]) == ("failed", "daily_loss")
    assert result["decided_at"] == "2026-06-02T08:05:00Z"
    assert f"Equity {measure} fell below the daily-loss floor {floor}" in result["explanation"]


def test_aqua_instant_standard_daily_drawdown(tmp: Path) -> None:
    """$100,000, 3% of the initial balance: limit $3,000, breach below $97,000; recalculated
    at 5 PM EST from balance or equity (help.aquafunded.com, Instant Funding Models)."""
    vector = Golden("aqua-instant-standard", "funded", tmp)
    day1 = objective(vector.replay(first=1), "daily_loss")
    assert (day1["limit"], day1["floor"]) == ("3000.00", "97000.00")
    # At 5 PM New York the day restarts from the $103,000 balance; the limit stays $3,000.
    next_day = objective(vector.replay(until="2026-03-02T17:00:00-05:00"), "daily_loss")
    assert (next_day["anchor"], next_day["floor"]) == ("103000.00", "100000.00")
    assert next_day["resets_at"] == "2026-03-03T22:00:00Z"


def test_tryaqua_daily_drawdown_on_a_1000_account(tmp: Path) -> None:
    """$1,000 account: the daily limit is $30; below $970 it is exceeded (help.aquafunded.com,
    TryAqua $1 Model)."""
    vector = Golden("aqua-tryaqua", "funded", tmp)
    assert vector.replay(first=3)["status"] == "active"
    result = vector.replay()
    assert (result["status"], result["rule"]) == ("failed", "daily_loss")
    assert result["explanation"] == (
        "Equity 969.99 fell below the daily-loss floor 970.00 (higher of day-start balance and "
        "equity 1,000.00 minus the daily loss limit 30.00)."
    )


def test_tryaqua_total_drawdown_trails_five_percent_of_the_high(tmp: Path) -> None:
    """5% total drawdown of the high point: high $1,050 -> floor $997.50 (help.aquafunded.com,
    TryAqua $1 Model)."""
    vector = Golden("aqua-tryaqua-trailing", "funded", tmp)
    held = vector.replay(first=3)
    assert held["status"] == "active"
    assert held["objectives"][0]["floor"] == "997.50"
    result = vector.replay()
    assert (result["status"], result["rule"]) == ("failed", "max_loss")
    assert result["explanation"].startswith(
        "Equity 997.49 fell below the maximum-loss floor 997.50"
    )


def test_oneup_daily_loss_limit_halts_the_day_and_resumes_at_5pm_ct(tmp: Path) -> None:
    """$100,000: the Daily Loss Limit triggers when the day's PnL exceeds -$2,500; trading is
    halted until the next trading day at 5 PM CT; the account is not eliminated (OneUp Trader
    Rules Definitions). OneUp also triggers on exactly -$2,500 ("hits"); Propdesk breaches
    strictly below the floor, so -$2,500.00 keeps trading here and -$2,500.25 pauses."""
    vector = Golden("oneup-daily-loss-limit", "challenge", tmp)
    assert vector.replay(first=3)["status"] == "active"
    paused = vector.replay(until="2026-03-02T16:59:00-06:00")
    assert paused["status"] == "paused"
    assert paused["decided_at"] is None  # a pause decides nothing for good
    pause = paused["history"][-1]
    assert (pause["time"], pause["status"], pause["rule"]) == (
        "2026-03-02T16:01:00Z",
        "paused",
        "daily_loss",
    )
    assert "Equity 97,499.75 fell below the daily-loss floor 97,500.00" in pause["explanation"]
    assert "paused until the reset at 17:00 America/Chicago" in pause["explanation"]
    resumed = vector.replay(until="2026-03-02T17:00:00-06:00")
    assert resumed["status"] == "active"
    assert resumed["history"][-1]["time"] == "2026-03-02T23:00:00Z"
    assert objective(resumed, "daily_loss")["floor"] == "94999.75"


# -- consistency ----------------------------------------------------------------------------


def test_topstep_consistency_best_day_900_of_2800_is_32_percent(tmp: Path) -> None:
    """50K: $900 best day / $2,800 overall = 32%, below the 40% target (Topstep Help Center).
    How the $2,800 is split over days, and the closing +$200, are ours."""
    vector = Golden("topstep-consistency", "combine", tmp)
    result = vector.replay(first=11)
    found = objective(result, "consistency")
    assert (found["best"], found["total_profit"], found["ratio_percent"]) == (
        "900.00",
        "2800.00",
        "32.14",
    )
    assert found["status"] == "met"
    assert found["text"] == "best day 900.00 is 32% of 2,800.00 total profit; at most 40%"
    # Consistent, but $200 short of the $3,000 target: the combine goes on.
    assert result["status"] == "active"
    assert objective(result, "profit_target")["remaining"] == "200.00"
    passed = vector.replay()
    assert (passed["status"], passed["decided_at"]) == ("passed", "2026-03-09T16:00:00Z")
    assert "best day 900.00 is 30% of 3,000.00 total profit" in passed["explanation"]


@pytest.mark.parametrize(
    ("product", "limit", "allowed_best"),
    [("e8-one-best-day", "40", "760.00"), ("e8-signature-best-day", "35", "665.00")],
)
def test_e8_best_day_scenario_a_allows_the_payout(
    tmp: Path, product: str, limit: str, allowed_best: str
) -> None:
    """+500, +550, -150, +600, +400 = $1,900; 40% = $760 (35% = $665); best day $600: a payout
    may be requested (E8 help centre)."""
    vector = Golden(product, "funded", tmp, events_of="e8-one-best-day")
    result = vector.replay(variant="scenario-a")
    found = objective(result, "consistency")
    assert (found["best"], found["total_profit"], found["allowed_best"]) == (
        "600.00",
        "1900.00",
        allowed_best,
    )
    assert (found["status"], found["limit_percent"]) == ("payout_allowed", f"{limit}.00")
    assert result["status"] == "active"  # a payout condition never decides the account


@pytest.mark.parametrize(
    ("product", "allowed_best", "needed"),
    # E8 gives $3,750 for 40%; the 35% article gives no target ($1,500 / 0.35, to the cent up).
    [("e8-one-best-day", "1240.00", "3,750.00"), ("e8-signature-best-day", "1085.00", "4,285.72")],
)
def test_e8_best_day_scenario_b_refuses_the_payout(
    tmp: Path, product: str, allowed_best: str, needed: str
) -> None:
    """+1,100, +1,500, +900, -400 = $3,100; 40% = $1,240 (35% = $1,085); best day $1,500: no
    payout; keep trading until total profit reaches $3,750 ($1,500 / 0.40) (E8 help centre)."""
    vector = Golden(product, "funded", tmp, events_of="e8-one-best-day")
    result = vector.replay(variant="scenario-b")
    found = objective(result, "consistency")
    assert (found["best"], found["total_profit"], found["allowed_best"]) == (
        "1500.00",
        "3100.00",
        allowed_best,
    )
    assert found["status"] == "payout_refused"
    assert found["text"].endswith(f"a payout needs a total profit of at least {needed}")
    assert result["status"] == "active"


def test_e8_best_day_in_evaluation_keeps_the_trader_trading(tmp: Path) -> None:
    """On evaluation the profit target rises to best day / 0.4: $1,500 / 0.4 = $3,750."""
    vector = Golden("e8-one-best-day", "evaluation", tmp)
    result = vector.replay(variant="scenario-b")
    found = objective(result, "consistency")
    assert (found["status"], found["min_total_profit"]) == ("not_met", "3750.00")
    assert found["text"] == (
        "best day 1,500.00 is 48% of 3,100.00 total profit; at most 40%: keep trading until "
        "total profit reaches 3,750.00"
    )
    assert result["status"] == "active"


def test_apex_thirty_percent_rule(tmp: Path) -> None:
    """$50,000 -> $60,000: $10,000 profit x 0.30 = $3,000; a day above $3,000 denies the payout;
    the minimum total is best day / 0.30 (FundedMath; Futures For Our Future). The day splits
    ($3,000 / $3,500 best days) are ours."""
    vector = Golden("apex-thirty-percent", "performance", tmp)
    allowed = objective(vector.replay(variant="allowed"), "consistency")
    assert (allowed["total_profit"], allowed["allowed_best"], allowed["best"]) == (
        "10000.00",
        "3000.00",
        "3000.00",
    )
    assert allowed["status"] == "payout_allowed"  # exactly 30% is "0.30 or lower"
    over = vector.replay(variant="over")
    found = objective(over, "consistency")
    assert (found["status"], found["best"], found["ratio_percent"]) == (
        "payout_refused",
        "3500.00",
        "35.00",
    )
    # $3,500 / 0.30 = $11,666.67 (rounded up to the cent, so that it is enough).
    assert found["min_total_profit"] == "11666.67"
    assert over["status"] == "active"  # the account is kept


def test_ftmo_one_step_best_day_rule_waits_then_passes(tmp: Path) -> None:
    """$5,000 on one day is 100% of the profit: not failed, keep trading; $5,000 more on other
    days makes $10,000 and the best day 50% (FTMO FAQ). With the 10% target met, it passes."""
    vector = Golden("ftmo-one-step-best-day", "challenge", tmp)
    day1 = vector.replay(first=3)
    found = objective(day1, "consistency")
    assert (found["ratio_percent"], found["status"]) == ("100.00", "not_met")
    assert day1["status"] == "active"
    day2 = objective(vector.replay(first=5), "consistency")
    assert (day2["total_profit"], day2["ratio_percent"]) == ("7500.00", "66.67")
    result = vector.replay()
    assert (result["status"], result["decided_at"], result["rule"]) == (
        "passed",
        "2026-03-04T10:00:00Z",
        None,
    )
    assert result["explanation"] == (
        "Every objective is met: profit 10,000.00 reached the 10,000.00 target; best day "
        "5,000.00 is 50% of 10,000.00 total profit; at most 50%."
    )
