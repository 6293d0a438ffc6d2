"""The engine's per-account record agrees with ``propdesk replay`` of what it evaluated.

Random streams of platform events with the engine's clock and operator events between them,
some stamped earlier than the time already evaluated (late data): after every stream the live
verdict and input hash equal a replay of the exported bodies, and pickling the record midway
changes nothing.
"""

from __future__ import annotations

import json
import pickle
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdesk.catalogue.families import rule_families
from propdesk.engine.live import Decision, LiveAccount, effective_body, exported
from propdesk.engine.replay import replay
from propdesk.plugins.manager import PluginHost
from propdesk.rules.clock import utc
from propdesk.rules.events import canonical, canonical_json, parse_event
from propdesk.settings import get_settings

FAMILIES = rule_families(PluginHost.load(get_settings()))
START = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # the streams cross the Prague DST change


def product(severity: str) -> dict[str, Any]:
    percent = {"percent": "5", "of": "initial_balance"}
    return {
        "code": "live-test",
        "name": "Live test",
        "currency": "USD",
        "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
        "sizes": [{"code": "10k", "balance": "10000", "prices": {"USD": "99.00"}}],
        "phases": [
            {
                "code": "phase1",
                "name": "Phase 1",
                "kind": "evaluation",
                "platform": "mt5",
                "group": "demo\\test",
                "leverage": 100,
                "rules": [
                    {"family": "daily_loss", "params": {"amount": percent, "severity": severity}},
                    {
                        "family": "max_loss",
                        "params": {"trail": "eod_balance", "amount": {**percent, "percent": "8"}},
                    },
                    {"family": "profit_target", "params": {"amount": percent}},
                    {"family": "min_trading_days", "params": {"count": 2}},
                    {"family": "time_limit", "params": {"days": 3}},
                ],
            }
        ],
    }


def body(data: dict[str, Any]) -> bytes:
    return canonical_json(canonical(parse_event(data))).encode()


def stream(rng: random.Random, length: int) -> list[tuple[str, bytes]]:
    """``(kind, body)`` pairs: ``source`` events and the engine's ``engine`` events."""
    at = START
    out = [("source", body({"type": "account_opened", "time": utc(at), "balance": "10000"}))]
    balance = Decimal(10000)
    position = 0
    for _ in range(length):
        at += timedelta(minutes=rng.choice([1, 30, 240, 600, 1500]))
        # Late data: now and then an event stamped up to two hours before the last one.
        stamp = at - timedelta(minutes=rng.randint(1, 120)) if rng.random() < 0.1 else at
        when = utc(stamp)
        roll = rng.random()
        if roll < 0.45:
            equity = balance + Decimal(rng.randint(-900, 900))
            data: dict[str, Any] = {
                "type": "snapshot",
                "time": when,
                "balance": str(balance),
                "equity": str(equity),
            }
        elif roll < 0.6:
            position += 1
            data = deal(when, position, "in", Decimal(0))
        elif roll < 0.72 and position:
            profit = Decimal(rng.randint(-400, 700))
            balance += profit - Decimal(3)
            data = deal(when, position, "out", profit)
        elif roll < 0.77:
            amount = Decimal(rng.choice([-200, 300]))
            balance += amount
            data = {"type": "balance", "time": when, "amount": str(amount), "comment": "adj"}
        elif roll < 0.87:
            out.append(("engine", body({"type": "clock", "time": when})))
            continue
        else:
            action = rng.choice(["reinstate", "extend"])
            data = {"type": "operator", "time": when, "action": action}
            data["actor"] = "alice"
            data["reason"] = "support ticket 42"
            if action == "extend":
                data["days"] = rng.randint(1, 3)
            out.append(("engine", body(data)))
            continue
        out.append(("source", body(data)))
    return out


def deal(when: str, position: int, entry: str, profit: Decimal) -> dict[str, Any]:
    return {
        "type": "deal",
        "time": when,
        "id": f"{position}{entry}",
        "position": str(position),
        "symbol": "EURUSD",
        "side": "buy",
        "entry": entry,
        "volume": "1",
        "price": "1.1",
        "profit": str(profit),
        "commission": "-3" if entry == "out" else "0",
    }


def run(live: LiveAccount, items: list[tuple[str, bytes]]) -> list[Decision]:
    decisions: list[Decision] = []
    for kind, data in items:
        if kind == "source":
            decisions += live.apply(live.seq + 1, data)
        else:
            decisions += live.apply_engine_event(data)
    return decisions


def replayed(spec: dict[str, Any], bodies: list[bytes], until: datetime) -> dict[str, Any]:
    events = [parse_event(json.loads(b)) for b in exported(bodies)]
    return replay(spec, "phase1", events, FAMILIES, size="10k", until=until)


def open_live(spec: dict[str, Any]) -> LiveAccount:
    return LiveAccount.open(7, spec, "phase1", "10k", (), FAMILIES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    length=st.integers(min_value=0, max_value=80),
    severity=st.sampled_from(["fail", "pause"]),
    cut=st.floats(min_value=0, max_value=1),
)
def test_live_verdict_equals_replay_of_the_export(
    seed: int, length: int, severity: str, cut: float
) -> None:
    spec = product(severity)
    items = stream(random.Random(seed), length)
    split = int(len(items) * cut)

    live = open_live(spec)
    decisions = run(live, items[:split])
    if split:
        assert live.until is not None
        assert live.verdict() == replayed(spec, [b for _, b in items[:split]], live.until)
    thawed: LiveAccount = pickle.loads(pickle.dumps(live))  # noqa: S301 (our own bytes)
    decisions_thawed = decisions + run(thawed, items[split:])
    decisions += run(live, items[split:])

    assert live.until is not None
    expected = replayed(spec, [b for _, b in items], live.until)
    assert live.verdict() == expected
    assert live.input_sha256() == expected["input_sha256"]
    assert thawed.verdict() == expected
    assert decisions_thawed == decisions
    assert live.seq == sum(kind == "source" for kind, _ in items)
    # Every rule decision in the history was reported once, in order; operators' were not.
    # (A due at exactly ``until`` is in the verdict already; the engine's clock reports it.)
    names = {"failed": "breached", "paused": "paused", "expired": "expired", "passed": "passed"}
    reported = [(d.event, utc(d.at), d.rule) for d in decisions]
    history, previous, wanted = live.evaluation.history, "not_opened", []
    assert expected["history"][: len(history)] == history
    for entry in history:
        event = names.get(entry["status"])
        if event is None and entry["status"] == "active" and previous == "paused":
            event = "resumed"
        if event is not None and "actor" not in entry:
            wanted.append((event, entry["time"], entry["rule"]))
        previous = entry["status"]
    assert reported == wanted


def test_a_late_event_is_evaluated_and_hashed_at_the_time_already_reached() -> None:
    late = body({"type": "snapshot", "time": "2026-03-27T08:00:00Z", "balance": "1", "equity": "1"})
    until = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    raised = effective_body(late, until)
    assert json.loads(raised)["time"] == "2026-03-27T09:00:00Z"
    assert raised == body({**json.loads(late), "time": "2026-03-27T09:00:00Z"})
    assert effective_body(raised, until) == raised  # not late: unchanged, byte for byte
    assert effective_body(late, None) == late


def test_levels_and_day_figures_follow_the_rules() -> None:
    spec = product("fail")
    live = open_live(spec)
    assert live.levels() is None and live.day() is None and live.status == "not_opened"
    live.apply(1, body({"type": "account_opened", "time": utc(START), "balance": "10000"}))
    at = utc(START + timedelta(hours=1))
    live.apply(2, body({"type": "snapshot", "time": at, "balance": "10000", "equity": "9700"}))
    later = utc(START + timedelta(hours=2))
    live.apply(3, body({"type": "snapshot", "time": later, "balance": "10000", "equity": "10100"}))
    levels = live.levels()
    assert levels is not None
    # Daily floor 9,500 (day-start balance - 5%) is nearer than the max-loss floor 9,200.
    assert (levels.rule, levels.measure, levels.floor) == ("daily_loss", "equity", Decimal(9500))
    assert (levels.current, levels.headroom, levels.headroom_pct) == (
        Decimal(10100),
        Decimal(600),
        Decimal(6),
    )
    day = live.day()
    assert day is not None
    assert day.day.isoformat() == "2026-03-27"
    assert (day.start_balance, day.min_equity, day.max_equity) == (
        Decimal(10000),
        Decimal(9700),
        Decimal(10100),
    )
    assert (day.close_equity, day.daily_floor, day.max_loss_floor) == (
        Decimal(10100),
        Decimal(9500),
        Decimal(9200),
    )
    # Past Prague midnight the day rolls: it starts from the last values before the reset.
    next_day = utc(datetime(2026, 3, 28, 9, 0, tzinfo=UTC))
    live.apply(
        4, body({"type": "snapshot", "time": next_day, "balance": "10000", "equity": "9900"})
    )
    day = live.day()
    assert day is not None
    assert day.day.isoformat() == "2026-03-28"
    assert (day.start_equity, day.min_equity, day.max_equity) == (
        Decimal(10100),
        Decimal(9900),
        Decimal(10100),
    )
    assert live.changed


def test_a_breach_is_a_decision_and_a_reinstatement_is_not() -> None:
    live = open_live(product("fail"))
    live.apply(1, body({"type": "account_opened", "time": utc(START), "balance": "10000"}))
    at = utc(START + timedelta(hours=1))
    decided = live.apply(
        2, body({"type": "snapshot", "time": at, "balance": "10000", "equity": "9400"})
    )
    assert [(d.event, d.rule) for d in decided] == [("breached", "daily_loss")]
    assert live.status == "failed"
    reinstate = {"type": "operator", "time": at, "action": "reinstate", "actor": "bob"}
    assert live.apply_engine_event(body({**reinstate, "reason": "platform glitch"})) == []
    assert live.status == "active"
    assert live.verdict()["history"][-1]["explanation"] == "Reinstated by bob: platform glitch"
    assert live.clock_body(START) == body({"type": "clock", "time": at})  # never backwards


def test_a_due_at_exactly_the_last_event_is_decided_in_the_verdict() -> None:
    spec = product("pause")
    live = open_live(spec)
    opened = body({"type": "account_opened", "time": utc(START), "balance": "10000"})
    at = utc(START + timedelta(hours=1))
    low = body({"type": "snapshot", "time": at, "balance": "10000", "equity": "9400"})
    live.apply(1, opened)
    assert [d.event for d in live.apply(2, low)] == ["paused"]
    reset = live.next_due()
    assert reset is not None
    snap = body({"type": "snapshot", "time": utc(reset), "balance": "10000", "equity": "9600"})
    live.apply(3, snap)
    # The reset at the snapshot's instant is still due for the engine (its clock decides it);
    # the verdict, like a replay to that instant, shows it decided.
    assert live.status == "paused" and live.next_due() == reset
    assert live.verdict() == replayed(spec, [opened, low, snap], reset)
    assert live.verdict()["status"] == "active"
    assert [d.event for d in live.apply_engine_event(live.clock_body(reset))] == ["resumed"]
    assert live.status == "active"
