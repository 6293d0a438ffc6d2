"""Deliveries out of order and repeated change nothing: the journal and the engine's sequence
make 10,000 events delivered 1 to 5 times each, shuffled, end in the same state as one
ordered delivery."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from enginekit import (
    PRODUCT,
    engine_runtime,
    open_account,
    open_desk,
    running_engine,
    send,
    state,
    verdicts,
    wait_for,
)

from propdesk.engine.export import account_inputs
from propdesk.lifecycle.service import load_challenge
from propdesk.rules.events import canonical, canonical_json
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

DECIDED = ("breached", "paused", "resumed", "expired", "passed")
ACCOUNTS = 4
PER_ACCOUNT = 2_500
COMPARED = (
    "evaluated_seq",
    "evaluated_until",
    "status",
    "balance",
    "equity",
    "nearest_rule",
    "floor",
    "headroom",
    "headroom_pct",
    "day",
    "day_min_equity",
    "next_due",
    "last_event_at",
    "last_snapshot_at",
)


def _product() -> dict[str, Any]:
    # Days reset half a day from now, so no reset falls among the test's recent events.
    product = copy.deepcopy(PRODUCT)
    reset = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:00")
    product["trading_day"] = {"time": reset, "timezone": "UTC"}
    return product


def _history(login: str, rng: random.Random, start: datetime, fate: str) -> list[dict[str, Any]]:
    """An account's events after its opening: trades, equity readings, a deposit; the account
    breaches late (``breach``), reaches its target (``pass``) or just trades (``trade``)."""
    events: list[dict[str, Any]] = []
    balance = Decimal(100000)
    step = timedelta(minutes=45) / PER_ACCOUNT
    position = 0
    for n in range(PER_ACCOUNT - 1):
        at = (start + step * (n + 1)).isoformat()
        seq = n + 2
        base = {"platform": "recording", "login": login, "seq": seq, "time": at}
        if n % 50 == 10:
            position += 1
            events.append(
                {
                    **base,
                    "type": "deal",
                    "id": f"{login}-{position}-in",
                    "position": f"{login}-{position}",
                    "symbol": "EURUSD",
                    "side": "buy",
                    "entry": "in",
                    "volume": "1",
                    "price": "1.1",
                    "profit": "0",
                    "commission": "-3.50",
                }
            )
            balance -= Decimal("3.50")
        elif n % 50 == 30:
            profit = Decimal(rng.randint(-400, 500))
            if fate == "pass" and n > PER_ACCOUNT * 0.8:
                profit = Decimal(2500)
            events.append(
                {
                    **base,
                    "type": "deal",
                    "id": f"{login}-{position}-out",
                    "position": f"{login}-{position}",
                    "symbol": "EURUSD",
                    "side": "sell",
                    "entry": "out",
                    "volume": "1",
                    "price": "1.1",
                    "profit": str(profit),
                }
            )
            balance += profit
        elif n == PER_ACCOUNT // 2:
            events.append({**base, "type": "balance", "amount": "250", "comment": "bonus"})
            balance += 250
        else:
            swing = rng.randint(-1500, 1500)
            if fate == "breach" and n > PER_ACCOUNT * 0.9:
                swing = -12000
            events.append(
                {
                    **base,
                    "type": "snapshot",
                    "balance": str(balance),
                    "equity": str(balance + swing),
                }
            )
    return events


async def _final(runtime: Runtime, tenant: TenantContext, opened: Any) -> dict[str, Any]:
    row = await state(runtime, tenant, opened.account_id)
    decisions = [
        {k: v for k, v in d.items() if k != "verdict"}
        for d in await verdicts(runtime, tenant, opened.account_id)
    ]
    async with runtime.db.session(tenant) as session:
        _row, challenge = await load_challenge(session, opened.challenge_id)
        inputs = await account_inputs(session, opened.account_id)
    return {
        "state": {k: row[k] for k in COMPARED},
        "decisions": decisions,
        # The engine's decisions (what follows a pass, the next phase, happens at wall time).
        "lifecycle": [(h.event, h.at, h.rule) for h in challenge.history if h.event in DECIDED],
        "journal": [canonical_json(canonical(e)) for e in inputs.events],
    }


async def test_shuffled_repeated_delivery_ends_where_ordered_delivery_does(
    engine_runtime: Runtime,
) -> None:
    runtime = engine_runtime
    rng = random.Random(20261121)
    product = _product()
    start = (datetime.now(UTC) - timedelta(minutes=50)).replace(microsecond=0)
    fates = ["breach", "pass", "trade", "trade"]
    logins = [f"70{i}" for i in range(ACCOUNTS)]
    histories = {
        login: _history(login, rng, start, fate) for login, fate in zip(logins, fates, strict=True)
    }
    total = ACCOUNTS * PER_ACCOUNT
    assert total == 10_000

    ordered_desk = await open_desk(runtime, server="shuffle-a", product=product)
    shuffled_desk = await open_desk(runtime, server="shuffle-b", product=product)
    async with running_engine(runtime):
        opened = {}
        for desk in (ordered_desk, shuffled_desk):
            for login in logins:
                server = "shuffle-a" if desk is ordered_desk else "shuffle-b"
                opened[desk.slug, login] = await open_account(
                    runtime, desk, login=login, opened_at=start, product=product, server=server
                )
        # One ordered delivery: every account's events in order, in batches of 500.
        in_order = [e for login in logins for e in histories[login]]
        for begin in range(0, len(in_order), 500):
            await send(runtime, ordered_desk, in_order[begin : begin + 500])
        # Each event 1 to 5 times, everything shuffled, in deliveries of 1 to 300 events.
        copies = [e for login in logins for e in histories[login] for _ in range(rng.randint(1, 5))]
        rng.shuffle(copies)
        sent = 0
        duplicates = 0
        while sent < len(copies):
            size = rng.randint(1, 300)
            result = await send(runtime, shuffled_desk, copies[sent : sent + size])
            duplicates += result.duplicates
            sent += size
        assert duplicates == len(copies) - (total - ACCOUNTS)

        async def caught_up() -> bool:
            for (slug, _login), account in opened.items():
                desk = ordered_desk if slug == ordered_desk.slug else shuffled_desk
                if (await state(runtime, desk, account.account_id))["evaluated_seq"] != PER_ACCOUNT:
                    return False
            return True

        await wait_for(caught_up, what="both desks to evaluate every event", timeout=60)

    for login, fate in zip(logins, fates, strict=True):
        ordered = await _final(runtime, ordered_desk, opened[ordered_desk.slug, login])
        shuffled = await _final(runtime, shuffled_desk, opened[shuffled_desk.slug, login])
        assert shuffled == ordered, f"account {login} ({fate}) differs"
        expected = {"breach": "failed", "pass": "passed", "trade": "active"}[fate]
        assert ordered["state"]["status"] == expected, (login, ordered["decisions"])
