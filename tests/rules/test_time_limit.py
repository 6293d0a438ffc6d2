"""Time limit: a deadline in local calendar days, decided at its instant with no event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from helpers_targets import make, objective, opened, phase, run, statuses, trade

from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import read_events
from propdesk.rules.families.time_limit import TimeLimit

# Prague moves to summer time on 29 March 2026: 10:00 is 09:00 UTC before, 08:00 UTC after.
OPEN = "2026-03-20T10:00:00+01:00"


def test_thirty_days_across_the_dst_change_end_at_the_same_local_time() -> None:
    evaluation = run([make("time_limit", {"days": 30})], [opened(OPEN)])
    found = objective(evaluation, "time_limit")
    assert (found["deadline"], found["last_day"], found["status"]) == (
        "2026-04-19T08:00:00Z",  # 10:00 in Prague (summer time), not 30 x 24 hours later
        "2026-04-19",
        "running",
    )

    evaluation.advance(datetime.fromisoformat("2026-04-19T07:59:59+00:00"))
    assert evaluation.status == "active"
    evaluation.advance(datetime.fromisoformat("2026-04-19T08:00:00+00:00"))
    assert statuses(evaluation) == ["active", "expired"]
    verdict = evaluation.verdict()
    assert (verdict["decided_at"], verdict["rule"]) == ("2026-04-19T08:00:00Z", "time_limit")
    assert verdict["explanation"] == (
        "The 30-day trading period that began 2026-03-20 10:00 Europe/Prague ended at "
        "2026-04-19 10:00 Europe/Prague before every objective was met; the account expires."
    )
    assert objective(evaluation, "time_limit")["status"] == "expired"


def test_days_left_count_down_with_no_events() -> None:
    evaluation = run([make("time_limit", {"days": 30})], [opened(OPEN)])
    assert objective(evaluation, "time_limit")["days_left"] == 31  # 20 March to 19 April
    evaluation.advance(datetime.fromisoformat("2026-04-18T12:00:00+02:00"))
    found = objective(evaluation, "time_limit")
    assert found["days_left"] == 2
    assert found["text"] == (
        "the trading period ends at 2026-04-19 10:00 Europe/Prague (2 days left, today included)"
    )
    evaluation.advance(datetime.fromisoformat("2026-04-19T00:00:00+02:00"))
    assert objective(evaluation, "time_limit")["days_left"] == 1


def test_ending_at_the_end_of_the_trading_day() -> None:
    params = {"days": 30, "ends_at_day_end": True}
    found = objective(run([make("time_limit", params)], [opened(OPEN)]), "time_limit")
    assert (found["deadline"], found["last_day"]) == ("2026-04-19T22:00:00Z", "2026-04-19")

    # A futures day ending 17:00 Chicago; US summer time starts 8 March 2026.
    cme = {
        "days": 10,
        "ends_at_day_end": True,
        "day": {"time": "17:00", "timezone": "America/Chicago"},
    }
    found = objective(
        run([make("time_limit", cme)], [opened("2026-03-02T10:00:00-06:00")]), "time_limit"
    )
    assert found["deadline"] == "2026-03-12T22:00:00Z"  # 17:00 CDT


def test_an_opening_exactly_at_the_day_boundary_is_not_given_an_extra_day() -> None:
    params = {"days": 7, "ends_at_day_end": True}
    found = objective(
        run([make("time_limit", params)], [opened("2026-03-02T00:00:00+01:00")]), "time_limit"
    )
    assert found["deadline"] == "2026-03-08T23:00:00Z"  # midnight starting 9 March in Prague


def test_passing_before_the_deadline_is_final() -> None:
    rules = [make("profit_target", {"amount": {"fixed": "1000"}}), make("time_limit", {"days": 7})]
    rows = [
        opened(OPEN),
        *trade("2026-03-21T10:00:00+01:00", "2026-03-21T11:00:00+01:00", "1", "1000"),
    ]
    evaluation = run(rules, rows, "2026-05-01T00:00:00+02:00")
    assert statuses(evaluation) == ["active", "passed"]


def test_consequence_fail_fails_instead_of_expiring() -> None:
    params = {"days": 7, "consequence": "fail"}
    evaluation = run([make("time_limit", params)], [opened(OPEN)], "2026-03-27T10:00:00+01:00")
    assert evaluation.status == "failed"
    assert evaluation.verdict()["explanation"].endswith("; the account fails.")


@pytest.mark.parametrize("cuts", [[1], [0, 2, 5], list(range(40))])
def test_the_same_history_in_batches_gives_the_same_verdict(cuts: list[int]) -> None:
    rows = [opened(OPEN)]
    for day in range(1, 12):
        at = datetime.fromisoformat(OPEN) + timedelta(days=day, hours=day % 5)
        rows.extend(trade(at.isoformat(), (at + timedelta(minutes=30)).isoformat(), f"{day}", "5"))
    until = datetime.fromisoformat("2026-04-25T00:00:00+02:00")

    def verdict(batch_ends: list[int]) -> object:
        evaluation = Evaluation([make("time_limit", {"days": 10, "ends_at_day_end": True})])
        events = list(read_events(json.dumps(row) for row in rows))
        for index, event in enumerate(events):
            evaluation.feed(event)
            if index in batch_ends and index + 1 < len(events):
                evaluation.advance(events[index + 1].time - timedelta(microseconds=1))
        evaluation.advance(until)
        return evaluation.verdict()

    assert verdict(cuts) == verdict([])


def test_describe() -> None:
    assert TimeLimit.describe({"days": 30}, phase()) == (
        "You have 30 calendar days from the account's opening to meet the objectives "
        "(days in Europe/Prague time). After that the account expires."
    )
    text = TimeLimit.describe({"days": 7, "ends_at_day_end": True, "consequence": "fail"}, phase())
    assert text == (
        "You have 7 calendar days from the account's opening to meet the objectives "
        "(days in Europe/Prague time), until the end of that trading day at 00:00. "
        "After that the account fails."
    )
