"""Inactivity: counted from the opening or the last activity; warning, then expiry, at due time."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers_targets import deal, make, objective, opened, phase, run, statuses, trade

from propdesk.rules.families.inactivity import Inactivity

OPEN = "2026-03-02T09:00:00+01:00"
FIVERS = {"days": 30, "warn_before_days": 5}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_warning_then_expiry_are_decided_at_their_time_with_no_event_after() -> None:
    # Last new position 5 March 10:00 (winter time); 30 days later is 4 April 10:00 summer time.
    rows = [opened(OPEN), deal("2026-03-05T10:00:00+01:00", "1", "in")]
    evaluation = run([make("inactivity", FIVERS)], rows)
    found = objective(evaluation, "inactivity")
    assert (found["last_activity"], found["deadline"], found["warning_at"]) == (
        "2026-03-05T09:00:00Z",
        "2026-04-04T08:00:00Z",
        "2026-03-30T08:00:00Z",
    )

    evaluation.advance(at("2026-03-30T07:59:59+00:00"))
    assert evaluation.notices == []
    evaluation.advance(at("2026-03-30T08:00:00+00:00"))
    assert evaluation.notices == [
        {
            "time": "2026-03-30T08:00:00Z",
            "kind": "warn",
            "rule": "inactivity",
            "explanation": "No new position since the last one at 2026-03-05 10:00 "
            "Europe/Prague: the account expires at 2026-04-04 10:00 Europe/Prague unless you "
            "open a position before then.",
        }
    ]
    assert objective(evaluation, "inactivity")["status"] == "warned"
    assert evaluation.status == "active"

    evaluation.advance(at("2026-04-04T07:59:59+00:00"))
    assert evaluation.status == "active"
    evaluation.advance(at("2026-04-04T08:00:00+00:00"))
    assert statuses(evaluation) == ["active", "expired"]
    assert evaluation.verdict()["explanation"] == (
        "No new position for 30 days since the last one at 2026-03-05 10:00 Europe/Prague: "
        "the account expired for inactivity."
    )


def test_counted_from_the_opening_when_nothing_happens() -> None:
    evaluation = run([make("inactivity", {"days": 30})], [opened(OPEN)], "2026-04-10T00:00:00Z")
    assert evaluation.status == "expired"
    assert evaluation.verdict()["decided_at"] == "2026-04-01T07:00:00Z"  # 09:00 summer time
    assert (
        "since the account opened at 2026-03-02 09:00 Europe/Prague"
        in (evaluation.verdict()["explanation"])
    )


def test_activity_after_the_warning_starts_the_count_again() -> None:
    rows = [
        opened(OPEN),
        deal("2026-03-28T12:00:00+01:00", "1", "in"),  # after the 27 March warning
    ]
    evaluation = run([make("inactivity", FIVERS)], rows)
    assert [notice["time"] for notice in evaluation.notices] == ["2026-03-27T08:00:00Z"]
    found = objective(evaluation, "inactivity")
    assert (found["status"], found["deadline"], found["warning_at"]) == (
        "ok",
        "2026-04-27T10:00:00Z",
        "2026-04-22T10:00:00Z",
    )
    evaluation.advance(at("2026-04-27T10:00:00Z"))
    assert [notice["time"] for notice in evaluation.notices] == [
        "2026-03-27T08:00:00Z",
        "2026-04-22T10:00:00Z",
    ]
    assert evaluation.status == "expired"


def test_holding_a_position_is_not_activity() -> None:
    rows = [opened(OPEN), deal("2026-03-03T10:00:00+01:00", "1", "in")]
    evaluation = run([make("inactivity", {"days": 30})], rows, "2026-04-02T12:00:00+02:00")
    assert evaluation.status == "expired"
    assert evaluation.verdict()["decided_at"] == "2026-04-02T08:00:00Z"


@pytest.mark.parametrize(
    ("activity", "deadline"),
    [
        ("position_opened", "2026-04-19T08:00:00Z"),  # 30 days after the last opening
        ("position_closed", "2026-04-10T08:00:00Z"),  # 30 days after the close
        ("any_deal", "2026-04-19T08:00:00Z"),
    ],
)
def test_what_counts_as_activity(activity: str, deadline: str) -> None:
    rows = [
        opened(OPEN),
        *trade("2026-03-03T10:00:00+01:00", "2026-03-11T10:00:00+01:00", "1", "50"),
        deal("2026-03-20T10:00:00+01:00", "2", "in"),  # still open
    ]
    found = objective(
        run([make("inactivity", {"days": 30, "activity": activity})], rows), "inactivity"
    )
    assert found["deadline"] == deadline


def test_an_activity_at_the_deadline_instant_is_in_time() -> None:
    rows = [opened(OPEN), deal("2026-04-01T09:00:00+02:00", "1", "in")]
    evaluation = run([make("inactivity", {"days": 30})], rows)
    assert evaluation.status == "active"
    assert objective(evaluation, "inactivity")["deadline"] == "2026-05-01T07:00:00Z"


def test_consequence_fail_and_day_end_alignment() -> None:
    params = {"days": 10, "consequence": "fail", "ends_at_day_end": True}
    evaluation = run([make("inactivity", params)], [opened(OPEN)], "2026-03-20T00:00:00Z")
    assert evaluation.status == "failed"
    assert evaluation.verdict()["decided_at"] == "2026-03-12T23:00:00Z"  # midnight after 12 March
    assert evaluation.verdict()["explanation"].endswith("the account failed for inactivity.")


def test_the_warning_must_come_before_the_deadline() -> None:
    with pytest.raises(ValueError, match=r"warn_before_days \(30\) must be less than days \(30\)"):
        make("inactivity", {"days": 30, "warn_before_days": 30})


def test_describe() -> None:
    assert Inactivity.describe(FIVERS, phase()) == (
        "You must open a position at least once every 30 calendar days, counted from the "
        "account's opening or your last new position (Europe/Prague time). Otherwise the "
        "account expires; you are warned 5 days before."
    )
    closed = Inactivity.describe(
        {"days": 30, "activity": "position_closed", "consequence": "fail"}, phase()
    )
    assert closed.startswith("You must close a position at least once every 30 calendar days")
    assert closed.endswith("Otherwise the account fails.")
