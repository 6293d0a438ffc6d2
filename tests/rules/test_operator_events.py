"""Clock and operator events: time passing with no trade, and a person's action on an account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rulekit import evaluate, events, objective, opened, rule, snap

from propdesk.rules.events import EventError, canonical, parse_event, read_events


def operator(time: str, action: str, days: int | None = None, **extra: Any) -> dict[str, Any]:
    row = {"type": "operator", "time": time, "action": action, "actor": "alice", **extra}
    row.setdefault("reason", "ticket 7")
    if days is not None:
        row["days"] = days
    return row


def daily(severity: str = "fail") -> Any:
    return rule(
        "daily_loss", {"amount": {"percent": "5", "of": "initial_balance"}, "severity": severity}
    )


def limit(days: int = 3) -> Any:
    return rule("time_limit", {"days": days})


def test_a_clock_event_decides_what_is_due_at_its_time() -> None:
    # Paused on day one; the clock at Prague midnight restarts the day with no trade.
    history = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "94000"),
        snap("2026-03-02T11:00:00+01:00", "100000", "97000"),
        {"type": "clock", "time": "2026-03-03T00:00:00+01:00"},
    ]
    evaluation = evaluate([daily("pause")], history[:3])
    assert evaluation.status == "paused"
    evaluation.feed(events(*history)[3])
    assert evaluation.status == "active"
    assert evaluation.verdict()["evaluated_until"] == "2026-03-02T23:00:00Z"


def test_reinstating_a_failed_account_makes_it_active_and_rules_watch_again() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "94000"),
        operator("2026-03-02T11:00:00+01:00", "reinstate", reason="feed glitch"),
    ]
    evaluation = evaluate([daily()], rows)
    verdict = evaluation.verdict()
    assert verdict["status"] == "active" and verdict["decided_at"] is None
    assert verdict["history"][-1] == {
        "time": "2026-03-02T10:00:00Z",
        "status": "active",
        "rule": None,
        "explanation": "Reinstated by alice: feed glitch",
        "actor": "alice",
    }
    assert objective(evaluation, "daily_loss")["status"] == "ok"  # not frozen any more
    evaluation.feed(events(snap("2026-03-02T12:00:00+01:00", "100000", "94500"))[0])
    assert evaluation.status == "failed"  # still below the floor: the rule breaches again
    assert evaluation.decision is not None and evaluation.decision.rule == "daily_loss"


def test_an_operator_event_that_changes_nothing_is_a_notice() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        operator("2026-03-02T11:00:00+01:00", "reinstate"),
    ]
    verdict = evaluate([daily()], rows).verdict()
    assert verdict["status"] == "active"
    assert [entry["status"] for entry in verdict["history"]] == ["active"]
    (notice,) = verdict["notices"]
    assert notice["kind"] == "operator" and notice["actor"] == "alice"
    assert "only a failed or expired account can be reinstated" in notice["explanation"]


def test_extending_moves_the_deadline_in_local_calendar_days() -> None:
    # Opened 2026-03-26 09:00 Prague (CET); 3 days → 29th 09:00 CEST; +2 → 31st 09:00 CEST.
    rows = [
        opened("2026-03-26T09:00:00+01:00"),
        operator("2026-03-27T09:00:00+01:00", "extend", days=2),
    ]
    evaluation = evaluate([limit()], rows)
    assert objective(evaluation, "time_limit")["deadline"] == "2026-03-31T07:00:00Z"
    assert evaluation.next_due is not None
    assert evaluation.verdict()["notices"][0]["explanation"] == (
        "Extended by 2 days by alice: ticket 7"
    )
    evaluation.advance(parse_event({"type": "clock", "time": "2026-03-31T07:00:00Z"}).time)
    assert evaluation.status == "expired"


def test_extending_an_expired_account_reopens_it_until_the_new_deadline() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        {"type": "clock", "time": "2026-03-05T09:00:00+01:00"},
    ]
    evaluation = evaluate([limit(), daily()], rows)
    assert evaluation.status == "expired"
    evaluation.feed(events(operator("2026-03-05T10:00:00+01:00", "extend", days=1))[0])
    assert evaluation.status == "active"
    assert evaluation.history[-1]["explanation"] == "Extended by 1 day by alice: ticket 7"
    assert objective(evaluation, "time_limit")["deadline"] == "2026-03-06T08:00:00Z"
    evaluation.feed(events({"type": "clock", "time": "2026-03-06T09:00:00+01:00"})[0])
    assert evaluation.status == "expired"
    assert evaluation.history[-1]["rule"] == "time_limit"


def test_extending_a_failed_account_is_a_notice() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "94000"),
        operator("2026-03-02T11:00:00+01:00", "extend", days=5),
    ]
    verdict = evaluate([limit(), daily()], rows).verdict()
    assert verdict["status"] == "failed"
    assert verdict["notices"][-1]["kind"] == "operator"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (operator("2026-03-02T09:00:00Z", "extend"), "field 'days' is required to extend"),
        (operator("2026-03-02T09:00:00Z", "reinstate", days=2), "'days' only goes with extend"),
        (operator("2026-03-02T09:00:00Z", "extend", days=0), "field 'days'"),
        (operator("2026-03-02T09:00:00Z", "pardon"), "field 'action'"),
        ({"type": "clock", "time": "2026-03-02T09:00:00Z", "days": 1}, "unknown field(s) days"),
    ],
)
def test_malformed_engine_events_are_refused_with_the_field(
    row: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_event(row)


def test_engine_events_round_trip_canonically() -> None:
    row = operator("2026-03-02T10:00:00+01:00", "extend", days=3)
    (event,) = read_events([json.dumps(row)])
    assert canonical(event) == {**row, "time": "2026-03-02T09:00:00Z"}
    reinstate = canonical(parse_event(operator("2026-03-02T09:00:00Z", "reinstate")))
    assert "days" not in reinstate
