"""How fast the engine's hot path runs: account updates per second on one core, in process.

The same 100,000 accounts and rule set as ``propdesk bench rules`` (``BENCH_PRODUCT``), but
each update goes the engine's way: the canonical body as the stream delivers it is decoded
(``wire``), evaluated, folded into the account's input chain, its seq and day figures updated
(``LiveAccount.apply``). About two million equity updates arrive over one trading day that
crosses the daily reset; at the reset every account gets the clock event the engine makes
then. Building accounts and bodies is not timed; the database and the stream are not in it.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from propdesk.engine.bench import BENCH_PRODUCT, TARGET_PER_SECOND
from propdesk.engine.live import LiveAccount
from propdesk.rules.events import AccountOpened, Snapshot, canonical, canonical_json
from propdesk.rules.family import RuleFamily


@dataclass(frozen=True)
class EngineBenchResult:
    accounts: int
    updates: int
    clocks: int
    seconds: float
    #: Of ``seconds``, the clock events at the reset (every account's day restarts).
    clock_seconds: float
    failed: int
    passed: int

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def line(self) -> dict[str, Any]:
        return {
            "metric": "engine_account_updates_per_second",
            "value": round(self.per_second),
            "unit": "account-updates/s",
            "target": TARGET_PER_SECOND,
        }


def _body(event: AccountOpened | Snapshot) -> bytes:
    return canonical_json(canonical(event)).encode()


def run(
    families: Mapping[str, type[RuleFamily]],
    *,
    accounts: int = 100_000,
    events: int = 2_000_000,
    seed: int = 7,
) -> EngineBenchResult:
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    template = LiveAccount.open(0, BENCH_PRODUCT, "phase1", "100k", (), families)
    live: list[LiveAccount] = []
    opened = _body(AccountOpened(start, Decimal(100000)))
    for account_id in range(1, accounts + 1):
        account = LiveAccount(
            account_id,
            template.version_hash,
            template.product_code,
            "phase1",
            "100k",
            (),
            [type(rule)(rule.id, rule.params, rule.context) for rule in template.evaluation.rules],
            template._trading_day,
        )
        account.apply(1, opened)
        live.append(account)
    # A pool of equities around the balance: a realistic spread, few breaches; the bodies are
    # encoded up front as the stream would deliver them (one per distinct time and equity).
    pool = [Decimal(100000 + rng.randint(-3000, 3000)) for _ in range(4096)]
    balance = Decimal(100000)
    step = timedelta(days=1) / events
    reset = live[0].next_due() if live else None
    seqs = [1] * accounts
    before: list[tuple[LiveAccount, int, bytes]] = []
    after: list[tuple[LiveAccount, int, bytes]] = []
    for i in range(events):
        at = start + step * (i + 1)
        index = rng.randrange(accounts)
        seqs[index] += 1
        body = _body(Snapshot(at, balance, pool[i % 4096]))
        (before if reset is None or at < reset else after).append((live[index], seqs[index], body))
    clocks = 0
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        for account, seq, body in before:
            account.apply(seq, body)
        ticked = time.perf_counter()
        if reset is not None:  # the engine's clock: every account still trading is due
            for account in live:
                if account.next_due() == reset:
                    account.apply_engine_event(account.clock_body(reset))
                    clocks += 1
        clock_seconds = time.perf_counter() - ticked
        for account, seq, body in after:
            account.apply(seq, body)
        seconds = time.perf_counter() - began
    finally:
        gc.enable()
    statuses = [account.status for account in live]
    return EngineBenchResult(
        accounts,
        events + clocks,
        clocks,
        seconds,
        clock_seconds,
        statuses.count("failed"),
        statuses.count("passed"),
    )
