"""Flat by a deadline: decided at the local deadline itself, across daylight saving."""

from __future__ import annotations

from datetime import datetime

from helpers_guards import deal, notices, problems, statuses
from rulekit import context, evaluate, objective, opened, rule

from propdesk.rules.families.flat_by import FlatBy

WEEKEND = {"schedule": {"time": "21:45", "timezone": "Europe/London", "days": ["fri"]}}
LONDON_WINTER = "2026-03-20T21:45:00Z"  # Friday 21:45 GMT
LONDON_SUMMER = "2026-04-03T20:45:00Z"  # Friday 21:45 BST, after the change on 29 March


def holding(since: str, position: str = "1") -> list[dict[str, object]]:
    return [opened("2026-03-16T08:00:00Z"), deal(since, position, volume="1.5")]


def test_friday_2145_london_is_decided_at_that_instant_with_no_event_after() -> None:
    run = evaluate([rule("flat_by", WEEKEND)], holding("2026-03-20T15:00:00Z"))
    run.advance(datetime.fromisoformat("2026-03-20T21:44:59Z"))
    assert run.status == "active"
    run.advance(datetime.fromisoformat("2026-03-23T08:00:00Z"))  # Monday: nothing came since
    assert run.status == "failed"
    assert run.verdict()["decided_at"] == LONDON_WINTER
    assert run.verdict()["explanation"] == (
        "At the deadline Fri 2026-03-20 21:45 Europe/London 1 position was still open "
        "(position 1: buy EURUSD 1.5 lots; 1.5 lots in total); the account must be flat by "
        "21:45 Europe/London every Friday."
    )


def test_flat_in_time_passes_the_deadline_and_the_next_one_is_a_week_later() -> None:
    rows = [*holding("2026-03-20T15:00:00Z"), deal("2026-03-20T21:00:00Z", "1", "out", "1.5")]
    run = evaluate([rule("flat_by", WEEKEND)], rows, "2026-03-21T08:00:00Z")
    assert run.status == "active"
    found = objective(run, "flat_by")
    assert (found["next_deadline"], found["missed_deadlines"], found["open_positions"]) == (
        "2026-03-27T21:45:00Z",
        0,
        0,
    )


def test_a_close_at_the_very_deadline_counts_as_in_time() -> None:
    rows = [*holding("2026-03-20T15:00:00Z"), deal(LONDON_WINTER, "1", "out", "1.5")]
    run = evaluate([rule("flat_by", WEEKEND)], rows, "2026-03-21T08:00:00Z")
    assert run.status == "active"


def test_the_deadline_follows_london_summer_time_in_late_march() -> None:
    # 27 March is still GMT (21:45 UTC); from 29 March London is on BST, so 3 April is 20:45 UTC.
    run = evaluate([rule("flat_by", WEEKEND)], [opened("2026-03-23T08:00:00Z")])
    assert objective(run, "flat_by")["next_deadline"] == "2026-03-27T21:45:00Z"
    run.advance(datetime.fromisoformat("2026-03-28T00:00:00Z"))
    assert objective(run, "flat_by")["next_deadline"] == LONDON_SUMMER

    run = evaluate([rule("flat_by", WEEKEND)], holding("2026-04-03T12:00:00Z"))
    run.advance(datetime.fromisoformat("2026-04-03T20:44:59Z"))
    assert run.status == "active"
    run.advance(datetime.fromisoformat("2026-04-03T21:45:00Z"))
    assert run.verdict()["decided_at"] == LONDON_SUMMER


def test_the_deadline_follows_london_back_to_winter_time_in_late_october() -> None:
    run = evaluate([rule("flat_by", WEEKEND)], [opened("2026-10-19T08:00:00Z")])
    assert objective(run, "flat_by")["next_deadline"] == "2026-10-23T20:45:00Z"  # BST
    run.advance(datetime.fromisoformat("2026-10-24T00:00:00Z"))
    assert objective(run, "flat_by")["next_deadline"] == "2026-10-30T21:45:00Z"  # GMT again

    rows = [opened("2026-10-26T08:00:00Z"), deal("2026-10-30T21:00:00Z", "1")]
    run = evaluate([rule("flat_by", WEEKEND)], rows, "2026-10-30T21:44:59Z")
    assert run.status == "active"  # 20:45 UTC is no deadline any more
    run.advance(datetime.fromisoformat("2026-10-31T00:00:00Z"))
    assert run.verdict()["decided_at"] == "2026-10-30T21:45:00Z"


def test_pause_until_the_next_trading_day_then_resume() -> None:
    # Trading day starts at midnight Prague: 23:00 UTC in March before the change.
    params = {**WEEKEND, "severity": "pause"}
    rows = [*holding("2026-03-20T15:00:00Z"), deal("2026-03-20T21:45:30Z", "1", "out", "1.5")]
    run = evaluate([rule("flat_by", params)], rows, "2026-03-20T22:59:59Z")
    assert run.status == "paused"
    assert run.history[-1]["explanation"].endswith(
        "trading is paused until the next trading day starts at 00:00 Europe/Prague "
        "(2026-03-20T23:00:00Z)."
    )
    assert objective(run, "flat_by")["status"] == "paused"
    run.advance(datetime.fromisoformat("2026-03-20T23:00:00Z"))
    assert statuses(run)[-2:] == [(LONDON_WINTER, "paused"), ("2026-03-20T23:00:00Z", "active")]
    found = objective(run, "flat_by")
    assert (found["status"], found["missed_deadlines"], found["resumes_at"]) == ("ok", 1, None)


def test_a_deadline_missed_at_the_trading_day_boundary_keeps_the_account_paused() -> None:
    # Flat by the end of the trading day (the default schedule), every day.
    ctx = context("00:00", "Europe/Prague")
    rows = [opened("2026-03-02T08:00:00Z"), deal("2026-03-02T09:00:00Z", "1")]
    run = evaluate([rule("flat_by", {"severity": "pause"}, ctx)], rows, "2026-03-03T23:00:00Z")
    assert statuses(run)[1:] == [("2026-03-02T23:00:00Z", "paused")]
    assert [n["time"] for n in notices(run, "pause")] == ["2026-03-03T23:00:00Z"]
    assert objective(run, "flat_by")["resumes_at"] == "2026-03-04T23:00:00Z"

    rows.append(deal("2026-03-04T10:00:00Z", "1", "out"))
    run = evaluate([rule("flat_by", {"severity": "pause"}, ctx)], rows, "2026-03-04T23:00:00Z")
    assert statuses(run)[-1] == ("2026-03-04T23:00:00Z", "active")


def test_warn_at_every_missed_deadline() -> None:
    params = {"schedule": {"time": "22:00", "timezone": "UTC", "days": ["mon", "wed"]}}
    rows = [opened("2026-03-02T08:00:00Z"), deal("2026-03-02T09:00:00Z", "1")]
    run = evaluate([rule("flat_by", {**params, "severity": "warn"})], rows, "2026-03-06T00:00:00Z")
    assert run.status == "active"
    assert [n["time"] for n in notices(run, "warn")] == [
        "2026-03-02T22:00:00Z",
        "2026-03-04T22:00:00Z",
    ]
    found = objective(run, "flat_by")
    assert (found["status"], found["next_deadline"], found["text"]) == (
        "warned",
        "2026-03-09T22:00:00Z",
        "flat by 22:00 UTC on Mondays and Wednesdays",
    )


def test_the_timezone_defaults_to_the_products_trading_day() -> None:
    ctx = context("17:00", "America/Chicago")
    run = evaluate(
        [rule("flat_by", {"schedule": {"time": "15:10"}}, ctx)], [opened("2026-03-02T08:00:00Z")]
    )
    assert objective(run, "flat_by")["next_deadline"] == "2026-03-02T21:10:00Z"  # 15:10 CST
    run = evaluate([rule("flat_by", {}, ctx)], [opened("2026-03-02T08:00:00Z")])
    assert objective(run, "flat_by")["next_deadline"] == "2026-03-02T23:00:00Z"  # 17:00 CST


def test_many_open_positions_are_counted_not_all_listed() -> None:
    rows: list[dict[str, object]] = [opened("2026-03-16T08:00:00Z")]
    rows += [deal("2026-03-20T10:00:00Z", str(n), volume="0.1") for n in range(7)]
    run = evaluate([rule("flat_by", WEEKEND)], rows, "2026-03-21T00:00:00Z")
    explanation = run.verdict()["explanation"]
    assert "7 positions were still open" in explanation
    assert "position 4: buy EURUSD 0.1 lots, 2 more; 0.7 lots in total)" in explanation


def test_parameters() -> None:
    assert problems("flat_by", WEEKEND) == []
    assert problems("flat_by", {}) == []
    assert problems("flat_by", {"schedule": {"time": "15:10"}, "severity": "pause"}) == []
    assert problems("flat_by", {"schedule": {"timezone": "UTC"}}) != []  # time is required
    assert problems("flat_by", {"schedule": {"time": "21:45", "days": ["friday"]}}) != []
    assert problems("flat_by", {"schedule": {"time": "21:45", "days": []}}) != []
    assert problems("flat_by", {"schedule": {"time": "24:00"}}) != []
    assert problems("flat_by", {"schedule": {"time": "21:45", "timezone": "BST"}}) != []
    assert problems("flat_by", {"severity": "exclude_profit"}) != []


def test_rulebook() -> None:
    assert FlatBy.describe(WEEKEND, context()) == (
        "All positions must be closed by 21:45 Europe/London every Friday. A position still "
        "open then fails the account."
    )
    assert FlatBy.describe({"severity": "pause"}, context("17:00", "America/Chicago")) == (
        "All positions must be closed by 17:00 America/Chicago every day. A position still open "
        "then pauses trading until the next trading day starts (17:00 America/Chicago)."
    )
