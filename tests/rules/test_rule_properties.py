"""Properties that hold for any event history (Hypothesis)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rulekit import context, events, rule

from propdesk.rules.evaluator import Evaluation

START = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)  # spans the Prague DST change on 29 March

cents = st.integers(min_value=80_000_00, max_value=125_000_00).map(lambda c: Decimal(c) / 100)
steps = st.lists(
    st.tuples(st.integers(min_value=1, max_value=36 * 60), cents, cents), min_size=1, max_size=60
)


def history(drawn: list[tuple[int, Decimal, Decimal]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "account_opened", "time": START.isoformat(), "balance": "100000"}
    ]
    now = START
    for minutes, balance, equity in drawn:
        now += timedelta(minutes=minutes)
        rows.append(
            {
                "type": "snapshot",
                "time": now.isoformat(),
                "balance": str(balance),
                "equity": str(equity),
            }
        )
    return rows


def floors(family: str, params: dict[str, Any], rows: list[dict[str, Any]]) -> list[Decimal]:
    """The floor after every event and every due instant."""
    evaluation = Evaluation([rule(family, params, context())])
    seen = []
    for event in events(*rows):
        evaluation.feed(event)
        seen.append(Decimal(evaluation.verdict()["objectives"][0]["floor"]))
    return seen


@settings(max_examples=150, deadline=None)
@given(steps)
def test_a_static_floor_never_moves(drawn: list[tuple[int, Decimal, Decimal]]) -> None:
    seen = floors(
        "max_loss", {"amount": {"percent": "10", "of": "initial_balance"}}, history(drawn)
    )
    assert set(seen) == {Decimal("90000")}


@settings(max_examples=150, deadline=None)
@given(
    steps,
    st.sampled_from(["equity_hwm", "balance_hwm", "eod_balance"]),
    st.sampled_from([None, "0", "100", "2500"]),
)
def test_a_trailing_floor_never_falls_and_never_passes_its_lock(
    drawn: list[tuple[int, Decimal, Decimal]], trail: str, lock: str | None
) -> None:
    params: dict[str, Any] = {"trail": trail, "amount": {"fixed": "5000"}}
    if lock is not None:
        params["lock"] = {"offset": lock}
    seen = floors("max_loss", params, history(drawn))
    assert all(later >= earlier for earlier, later in pairwise(seen))
    if lock is not None:
        assert max(seen) <= Decimal(100000) + Decimal(lock)


STANDARD = [
    ("daily_loss", {"amount": {"percent": "5", "of": "initial_balance"}, "severity": "pause"}),
    ("max_loss", {"trail": "eod_balance", "amount": {"percent": "10", "of": "initial_balance"}}),
]


def verdict_in_batches(rows: list[dict[str, Any]], cuts: list[int], until: datetime) -> Any:
    evaluation = Evaluation([rule(family, params, context()) for family, params in STANDARD])
    parsed = events(*rows)
    for index, event in enumerate(parsed):
        evaluation.feed(event)
        if index in cuts and index + 1 < len(parsed):
            # A batch ends: time passes up to just before the next event.
            evaluation.advance(parsed[index + 1].time - timedelta(microseconds=1))
    evaluation.advance(until)
    return evaluation.verdict()


@settings(max_examples=150, deadline=None)
@given(steps, st.lists(st.integers(min_value=0, max_value=60), max_size=10))
def test_the_same_events_in_different_batches_give_the_same_verdict(
    drawn: list[tuple[int, Decimal, Decimal]], cuts: list[int]
) -> None:
    rows = history(drawn)
    until = datetime.fromisoformat(rows[-1]["time"]) + timedelta(days=2)
    assert verdict_in_batches(rows, cuts, until) == verdict_in_batches(rows, [], until)


@settings(max_examples=100, deadline=None)
@given(steps, st.integers(min_value=0, max_value=60))
def test_an_evaluation_restored_from_a_snapshot_carries_on_identically(
    drawn: list[tuple[int, Decimal, Decimal]], cut: int
) -> None:
    """The engine restarts from pickled snapshots: a restored evaluation must not drift."""
    rows = history(drawn)
    parsed = events(*rows)
    until = parsed[-1].time + timedelta(days=2)
    straight = Evaluation([rule(family, params, context()) for family, params in STANDARD])
    straight.feed_all(parsed)
    straight.advance(until)

    first = Evaluation([rule(family, params, context()) for family, params in STANDARD])
    first.feed_all(parsed[: cut + 1])
    restored: Evaluation = pickle.loads(pickle.dumps(first))  # noqa: S301 (our own bytes)
    restored.feed_all(parsed[cut + 1 :])
    restored.advance(until)
    assert restored.verdict() == straight.verdict()
