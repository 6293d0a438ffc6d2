"""Replay is deterministic: the same inputs give the same bytes, however they are written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdesk.catalogue.families import rule_families
from propdesk.engine.replay import render, replay
from propdesk.plugins.manager import PluginHost
from propdesk.rules.events import read_events
from propdesk.settings import get_settings

TWO_STEP = json.loads(
    (Path(__file__).parents[2] / "tenants/aurora_fx/challenges/two-step.json").read_text()
)
FAMILIES = rule_families(PluginHost.load(get_settings()))
START = datetime(2026, 3, 25, 7, 0, tzinfo=UTC)  # the history crosses the Prague DST change

amounts = st.integers(min_value=-4_000_00, max_value=12_000_00).map(lambda c: Decimal(c) / 100)
steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=20 * 60),  # minutes since the previous event
        st.sampled_from(["snapshot", "open", "close"]),
        amounts,
        amounts,
    ),
    min_size=1,
    max_size=40,
)
offsets = st.sampled_from([0, 60, 120, -300, 330])  # how each time is written (same instant)


def history(drawn: list[tuple[int, str, Decimal, Decimal]], offset: int) -> list[str]:
    zone = timezone(timedelta(minutes=offset))
    now, balance, position = START, Decimal(100000), 0
    lines = [{"type": "account_opened", "time": START, "balance": "100000"}]
    for minutes, kind, first, second in drawn:
        now += timedelta(minutes=minutes)
        if kind == "snapshot":
            equity = balance + first if position else balance
            lines.append(
                {"type": "snapshot", "time": now, "balance": str(balance), "equity": str(equity)}
            )
        elif kind == "open" and not position:
            position += 1
            lines.append(_deal(now, position, "in", Decimal(0)))
        elif kind == "close" and position:
            balance += second
            lines.append(_deal(now, position, "out", second))
            position = 0
    return [
        json.dumps({**line, "time": line["time"].astimezone(zone).isoformat()}) for line in lines
    ]


def _deal(now: datetime, position: int, entry: str, profit: Decimal) -> dict[str, Any]:
    return {
        "type": "deal",
        "time": now,
        "id": f"{now.timestamp()}",
        "position": str(position),
        "symbol": "EURUSD",
        "side": "buy",
        "entry": entry,
        "volume": "1.00",
        "price": "1.0850",
        "profit": str(profit),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, offsets, offsets, st.integers(min_value=0, max_value=72))
def test_replay_is_deterministic_whatever_the_offsets_the_times_are_written_in(
    drawn: list[tuple[int, str, Decimal, Decimal]], one: int, other: int, hours_later: int
) -> None:
    first_lines, second_lines = history(drawn, one), history(drawn, other)
    events = list(read_events(first_lines))
    until = events[-1].time + timedelta(hours=hours_later)
    first = render(replay(TWO_STEP, "phase1", events, FAMILIES, size="100k", until=until))
    again = render(replay(TWO_STEP, "phase1", events, FAMILIES, size="100k", until=until))
    rewritten = list(read_events(second_lines))
    other_way = render(replay(TWO_STEP, "phase1", rewritten, FAMILIES, size="100k", until=until))
    assert first == again == other_way
    assert json.loads(first)["status"] in ("active", "passed", "failed", "paused", "expired")
