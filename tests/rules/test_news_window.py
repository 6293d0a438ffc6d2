"""News windows: inclusive bounds, scope, impacts, and fail vs exclude_profit vs warn."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers_guards import deal, news, notices, problems
from rulekit import context, evaluate, objective, opened, rule

from propdesk.rules.evaluator import Evaluation
from propdesk.rules.families.news_window import NewsWindow

OPEN = opened("2026-03-06T08:00:00Z")
NFP = news("2026-03-06T08:30:00Z", "2026-03-06T13:30:00Z")  # window 13:28:00 to 13:32:00
FTMO = {"minutes_before": 2, "minutes_after": 2}


def run_with(params: dict[str, object], *rows: dict[str, object]) -> Evaluation:
    return evaluate([rule("news_window", params)], [OPEN, NFP, *rows])


@pytest.mark.parametrize(
    ("time", "entry", "inside"),
    [
        ("2026-03-06T13:27:59Z", "in", False),
        ("2026-03-06T13:28:00Z", "in", True),  # the window's first instant
        ("2026-03-06T13:30:00Z", "in", True),
        ("2026-03-06T13:32:00Z", "out", True),  # its last instant
        ("2026-03-06T13:32:01Z", "out", False),
    ],
)
def test_the_window_includes_both_bounds(time: str, entry: str, inside: bool) -> None:
    rows = [deal("2026-03-06T10:00:00Z", "1")] if entry == "out" else []
    run = run_with(FTMO, *rows, deal(time, "1", entry))
    assert (run.status == "failed") is inside


def test_a_breach_names_the_deal_the_release_and_the_window() -> None:
    run = run_with(FTMO, deal("2026-03-06T13:28:30Z", "1", id="501"))
    assert run.verdict()["decided_at"] == "2026-03-06T13:28:30Z"
    assert run.verdict()["explanation"] == (
        "Buy EURUSD 1 lot opened (deal 501) at 2026-03-06 13:28:30 UTC, 1 minute 30 seconds "
        'before the high-impact release "US Non-Farm Payrolls" at 2026-03-06 13:30:00 UTC; '
        "no opening or closing deals on EURUSD from 2026-03-06 13:28:00 UTC to 2026-03-06 "
        "13:32:00 UTC (2 minutes before to 2 minutes after)."
    )


def test_only_the_symbols_the_release_moves() -> None:
    assert run_with(FTMO, deal("2026-03-06T13:30:00Z", "1", symbol="USDJPY")).status == "active"
    assert run_with(FTMO, deal("2026-03-06T13:30:00Z", "1", symbol="US30")).status == "failed"


def test_impacts_choose_the_releases_that_open_a_window() -> None:
    cpi = news("2026-03-06T12:00:00Z", "2026-03-06T15:00:00Z", impact="medium", title="CPI")
    trade = deal("2026-03-06T15:01:00Z", "1")
    assert run_with(FTMO, cpi, trade).status == "active"  # default: high impact only
    assert run_with({"impacts": ["high", "medium"]}, cpi, trade).status == "failed"


def test_scope_open_only_or_close_only() -> None:
    held = deal("2026-03-06T10:00:00Z", "1")
    close_inside = deal("2026-03-06T13:31:00Z", "1", "out")
    open_inside = deal("2026-03-06T13:31:00Z", "2")
    assert run_with({"scope": ["open"]}, held, close_inside).status == "active"
    assert run_with({"scope": ["open"]}, open_inside).status == "failed"
    assert run_with({"scope": ["close"]}, open_inside).status == "active"
    assert run_with({"scope": ["close"]}, held, close_inside).status == "failed"


def test_a_longer_window_like_fundednext() -> None:
    params = {"minutes_before": 5, "minutes_after": 5}
    assert run_with(params, deal("2026-03-06T13:25:00Z", "1")).status == "failed"
    assert run_with(params, deal("2026-03-06T13:24:59Z", "1")).status == "active"


def test_warn_records_every_violating_deal_and_trading_goes_on() -> None:
    rows = [
        deal("2026-03-06T13:29:00Z", "1"),
        deal("2026-03-06T13:31:00Z", "1", "out", profit="300"),
        deal("2026-03-06T14:00:00Z", "2"),
    ]
    run = run_with({"consequence": "warn"}, *rows)
    assert run.status == "active"
    assert [n["time"] for n in notices(run, "warn")] == [
        "2026-03-06T13:29:00Z",
        "2026-03-06T13:31:00Z",
    ]
    assert run.verdict()["account"]["excluded_profit"] == "0.00"
    found = objective(run, "news_window")
    assert (found["status"], found["windows_hit"]) == ("warned", 2)


TARGET = {"amount": {"fixed": "1000"}}
EXCLUDE = {"consequence": "exclude_profit"}
TARGET_ROWS = [
    OPEN,
    NFP,
    deal("2026-03-06T10:00:00Z", "1"),
    deal("2026-03-06T11:00:00Z", "1", "out", profit="700"),
    deal("2026-03-06T13:29:00Z", "2", commission="-5"),
    deal("2026-03-06T13:45:00Z", "2", "out", profit="505"),
]


def test_exclude_profit_takes_the_positions_profit_out_of_the_target() -> None:
    # The5ers-style: profits made in the window are deducted, the account keeps trading.
    run = evaluate([rule("news_window", EXCLUDE), rule("profit_target", TARGET)], TARGET_ROWS)
    assert run.status == "active"  # 1,200.00 made, but only 700.00 counts
    assert run.account.excluded_profit == 500
    assert run.account.profit == 700
    assert run.verdict()["account"]["excluded_profit"] == "500.00"
    assert notices(run, "exclude_profit")[0]["explanation"] == (
        'Position 2 (buy EURUSD) traded inside the window of the high-impact release "US '
        'Non-Farm Payrolls" at 2026-03-06 13:30:00 UTC (2026-03-06 13:28:00 UTC to 2026-03-06 '
        "13:32:00 UTC); its net profit of 500.00 USD does not count towards the objectives."
    )
    found = objective(run, "news_window")
    assert (found["status"], found["windows_hit"], found["excluded_profit"]) == (
        "excluding",
        1,
        "500.00",
    )
    later = [
        deal("2026-03-06T15:00:00Z", "3"),
        deal("2026-03-06T15:30:00Z", "3", "out", profit="300"),
    ]
    run = evaluate(
        [rule("news_window", EXCLUDE), rule("profit_target", TARGET)], [*TARGET_ROWS, *later]
    )
    assert run.status == "passed"  # 700 + 300 counted
    assert run.verdict()["decided_at"] == "2026-03-06T15:30:00Z"


def test_exclude_profit_holds_whatever_the_order_of_the_rules() -> None:
    rows = [
        *TARGET_ROWS[:4],
        deal("2026-03-06T13:29:00Z", "2"),
        deal("2026-03-06T13:45:00Z", "2", "out", profit="1200"),
    ]
    run = evaluate([rule("profit_target", TARGET), rule("news_window", EXCLUDE)], rows)
    assert run.status == "active"


def test_exclude_profit_waits_for_the_full_close_and_leaves_losses_counted() -> None:
    guard = {"consequence": "exclude_profit"}
    rows = [
        deal("2026-03-06T13:31:00Z", "1", volume="2"),
        deal("2026-03-06T14:00:00Z", "1", "out", volume="1", profit="400"),
    ]
    run = run_with(guard, *rows)
    assert run.account.excluded_profit == 0  # still open: nothing decided yet
    assert objective(run, "news_window")["flagged_positions"] == ["1"]
    run = run_with(
        guard, *rows, deal("2026-03-06T15:00:00Z", "1", "out", volume="1", profit="-100")
    )
    assert run.account.excluded_profit == 300  # the whole position's net result
    assert objective(run, "news_window")["flagged_positions"] == []

    losing = [
        deal("2026-03-06T13:31:00Z", "1"),
        deal("2026-03-06T14:00:00Z", "1", "out", profit="-250"),
    ]
    run = run_with(guard, *losing)
    assert run.account.excluded_profit == 0
    assert notices(run, "exclude_profit") == []


def test_a_position_closed_inside_a_window_is_excluded_too() -> None:
    rows = [
        deal("2026-03-06T09:00:00Z", "1"),
        deal("2026-03-06T13:30:00Z", "1", "out", profit="90"),
    ]
    run = run_with({"consequence": "exclude_profit"}, *rows)
    assert run.account.excluded_profit == 90
    assert notices(run, "exclude_profit")[0]["time"] == "2026-03-06T13:30:00Z"


def test_a_late_release_does_not_rejudge_deals_already_made() -> None:
    # The calendar entry arrives at 13:29:30, inside its own window (13:28 to 13:32).
    late = news("2026-03-06T13:29:30Z", "2026-03-06T13:30:00Z")
    before = deal("2026-03-06T13:29:00Z", "1")
    after = deal("2026-03-06T13:31:00Z", "2")
    run = evaluate([rule("news_window", FTMO)], [OPEN, before, late])
    assert run.status == "active"
    run = evaluate([rule("news_window", FTMO)], [OPEN, before, late, after])
    assert run.verdict()["decided_at"] == "2026-03-06T13:31:00Z"
    # A release learnt of after its window ended has nothing left to judge.
    stale = news("2026-03-06T14:00:00Z", "2026-03-06T13:30:00Z")
    run = evaluate([rule("news_window", FTMO)], [OPEN, stale, deal("2026-03-06T14:00:00Z", "3")])
    assert objective(run, "news_window")["upcoming_windows"] == []


def test_the_same_release_read_twice_is_one_window() -> None:
    again = news("2026-03-06T12:30:00Z", "2026-03-06T13:30:00Z")
    run = run_with({"consequence": "warn"}, again, deal("2026-03-06T13:30:00Z", "1"))
    assert len(notices(run, "warn")) == 1
    assert len(objective(run, "news_window")["upcoming_windows"]) == 1


def test_the_objective_lists_the_windows_ahead() -> None:
    ecb = news("2026-03-06T12:05:00Z", "2026-03-06T13:15:00Z", ("EURUSD",), title="ECB rate")
    run = run_with(FTMO, ecb)
    found = objective(run, "news_window")
    assert [w["release"] for w in found["upcoming_windows"]] == ["ECB rate", "US Non-Farm Payrolls"]
    assert found["upcoming_windows"][1] == {
        "release": "US Non-Farm Payrolls",
        "impact": "high",
        "at": "2026-03-06T13:30:00Z",
        "from": "2026-03-06T13:28:00Z",
        "to": "2026-03-06T13:32:00Z",
        "symbols": ["EURUSD", "US30"],
    }
    assert found["text"] == "no trading 2 minutes before to 2 minutes after high-impact news"
    # Once time passed a window it is no longer listed.
    run = run_with(FTMO, ecb, deal("2026-03-06T13:20:00Z", "1"))
    assert [w["release"] for w in objective(run, "news_window")["upcoming_windows"]] == [
        "US Non-Farm Payrolls"
    ]
    assert objective(run, "news_window")["as_of"] == "2026-03-06T13:20:00Z"


def test_parameters() -> None:
    assert problems("news_window", {}) == []
    assert problems("news_window", {**FTMO, "impacts": ["high", "medium"], "scope": ["open"]}) == []
    assert problems("news_window", {"consequence": "exclude_profit"}) == []
    assert problems("news_window", {"minutes_before": "2"}) != []  # whole minutes, a number
    assert problems("news_window", {"minutes_after": -1}) != []
    assert problems("news_window", {"impacts": []}) != []
    assert problems("news_window", {"impacts": ["red"]}) != []
    assert problems("news_window", {"scope": ["pending"]}) != []
    assert problems("news_window", {"consequence": "pause"}) != []


def test_rulebook() -> None:
    assert NewsWindow.describe({}, context()) == (
        "Do not open or close positions on an instrument from 2 minutes before to 2 minutes "
        "after a high-impact news release that moves it (pending orders, stop losses and take "
        "profits filled then count too). Trading inside such a window fails the account."
    )
    text = NewsWindow.describe(
        {
            "minutes_before": 5,
            "minutes_after": 1,
            "impacts": ["medium", "high"],
            "scope": ["open"],
            "consequence": "exclude_profit",
        },
        context(),
    )
    assert text.startswith(
        "Do not open or add to positions on an instrument from 5 minutes before to 1 minute "
        "after a high or medium-impact news release"
    )
    assert text.endswith("means the trade's profit does not count towards the objectives.")


def test_times_with_offsets_are_compared_as_instants() -> None:
    run = evaluate(
        [rule("news_window", FTMO)],
        [OPEN, NFP, deal("2026-03-06T14:28:00+01:00", "1")],  # 13:28 UTC
    )
    assert run.status == "failed"
    assert datetime.fromisoformat(run.verdict()["decided_at"]) == datetime.fromisoformat(
        "2026-03-06T13:28:00+00:00"
    )
