"""How fast the standard rule set evaluates: account updates per second on one core.

100,000 accounts each hold the rules of a two-step evaluation phase (daily loss from the
day-start balance, end-of-day trailing max loss, profit target, minimum trading days).
Two million equity updates (platform snapshots) arrive for random accounts over one trading
day that crosses the daily reset, so resets and end-of-day trailing run too. Building the
accounts and the events is not timed; the figure is events evaluated per second, excluding
decoding and persistence.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from propdesk.catalogue.product import build_rules, effective_phase, phase_context
from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import AccountOpened, Snapshot
from propdesk.rules.family import RuleFamily

#: Account updates per second on one core that the real-time engine is built for.
TARGET_PER_SECOND = 200_000


def _percent(value: str) -> dict[str, str]:
    return {"percent": value, "of": "initial_balance"}


BENCH_PRODUCT: dict[str, Any] = {
    "code": "bench-two-step",
    "name": "Benchmark two-step",
    "currency": "USD",
    "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
    "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
    "payout": {"split_percent": "80", "cadence": "on_demand"},
    "phases": [
        {
            "code": "phase1",
            "name": "Phase 1",
            "kind": "evaluation",
            "platform": "mt5",
            "group": "demo\\bench\\phase1",
            "leverage": 100,
            "rules": [
                {"family": "daily_loss", "params": {"amount": _percent("5")}},
                {
                    "family": "max_loss",
                    "params": {"trail": "eod_balance", "amount": _percent("10")},
                },
                {"family": "profit_target", "params": {"amount": _percent("10")}},
                {"family": "min_trading_days", "params": {"count": 4, "counts": "position_opened"}},
            ],
        }
    ],
}


@dataclass(frozen=True)
class BenchResult:
    accounts: int
    events: int
    seconds: float
    failed: int
    passed: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> dict[str, Any]:
        return {
            "metric": "rule_evaluations_per_second",
            "value": round(self.per_second),
            "unit": "account-updates/s",
            "target": TARGET_PER_SECOND,
        }


def _rules(families: Mapping[str, type[RuleFamily]]) -> Callable[[], list[RuleFamily]]:
    spec = effective_phase(BENCH_PRODUCT, "phase1", "100k", ())
    context = phase_context(BENCH_PRODUCT, "phase1")
    return lambda: build_rules(spec, families, context)


def run(
    families: Mapping[str, type[RuleFamily]],
    *,
    accounts: int = 100_000,
    events: int = 2_000_000,
    days: float = 1,
    seed: int = 7,
) -> BenchResult:
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    rules = _rules(families)
    evaluations = [Evaluation(rules()) for _ in range(accounts)]
    for evaluation in evaluations:
        evaluation.feed(AccountOpened(start, Decimal(100000)))
    # A pool of equities around the balance: a realistic spread, few breaches.
    pool = [Decimal(100000 + rng.randint(-3000, 3000)) for _ in range(4096)]
    balance = Decimal(100000)
    step = timedelta(days=days) / events
    feed = [
        (rng.randrange(accounts), Snapshot(start + step * (i + 1), balance, pool[i % 4096]))
        for i in range(events)
    ]
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        for index, snapshot in feed:
            evaluations[index].feed(snapshot)
        seconds = time.perf_counter() - began
    finally:
        gc.enable()
    statuses = [evaluation.status for evaluation in evaluations]
    return BenchResult(
        accounts, events, seconds, statuses.count("failed"), statuses.count("passed")
    )
