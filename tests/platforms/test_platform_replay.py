"""What the recording platform produces is what the engine evaluates: its events replay through
``Evaluation`` and survive the journal's JSON form unchanged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from propdesk.platforms import AccountSpec
from propdesk.rules.clock import LocalTime
from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import Event, canonical, canonical_json, read_events
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.plugin import STANDARD_FAMILIES
from propdesk.testing.platform import RecordingPlatform

FAMILIES = {family.code: family for family in STANDARD_FAMILIES}
CONTEXT = PhaseContext(
    "two-step", "phase1", "USD", LocalTime.parse({"time": "00:00", "timezone": "Europe/Prague"})
)
RULES: dict[str, Mapping[str, Any]] = {
    "daily_loss": {
        "anchor": "day_start_balance",
        "amount": {"percent": "5", "of": "initial_balance"},
    },
    "max_loss": {"trail": "none", "amount": {"percent": "10", "of": "initial_balance"}},
    "profit_target": {"amount": {"percent": "10", "of": "initial_balance"}},
}


def rules() -> list[RuleFamily]:
    return [FAMILIES[code](code, params, CONTEXT) for code, params in RULES.items()]


SPEC = AccountSpec(
    reference="ord-1:phase1",
    group="challenge-100k",
    leverage=100,
    initial_balance=Decimal(100000),
    currency="USD",
    trader_name="Ada Trader",
    trader_email="ada@example.com",
)


async def poll_into(
    platform: RecordingPlatform, login: str, evaluation: Evaluation, cursor: str | None
) -> str:
    """One poll as the engine makes it: every ready batch, fed in order; the new cursor."""
    while True:
        batch = await platform.events(login, cursor)
        evaluation.feed_all(batch.events)
        cursor = batch.cursor
        if not batch.more:
            return cursor


async def test_a_losing_day_fails_the_account_and_the_breach_actions_replay_too() -> None:
    platform = RecordingPlatform({"batch_size": 4})
    login = (await platform.create_account(SPEC)).login
    evaluation = Evaluation(rules())
    cursor = await poll_into(platform, login, evaluation, None)
    assert evaluation.status == "active"

    platform.advance(hours=1)
    platform.open_position(login, "EURUSD", "buy", "10", "1.10000", commission="-70")
    for price in ("1.09800", "1.09700", "1.09550"):
        platform.advance(minutes=10)
        platform.quote("EURUSD", price)
    cursor = await poll_into(platform, login, evaluation, cursor)
    assert evaluation.status == "active"  # equity 99,930 - 4,500 = 95,430: above 95,000

    platform.advance(minutes=10)
    platform.quote("EURUSD", "1.09450")  # equity 99,930 - 5,500 = 94,430 < 95,000
    cursor = await poll_into(platform, login, evaluation, cursor)
    verdict = evaluation.verdict()
    assert (verdict["status"], verdict["rule"]) == ("failed", "daily_loss")

    # The breach actions' own effects come back as events and replay without error.
    await platform.disable_trading(login)
    await platform.close_all_positions(login)
    cursor = await poll_into(platform, login, evaluation, cursor)
    assert evaluation.status == "failed"
    assert evaluation.account.flat and evaluation.account.balance == Decimal("94430.00")
    assert evaluation.account.balance == platform.state(login).balance


async def test_a_profitable_account_passes_on_the_platforms_events() -> None:
    platform = RecordingPlatform()
    login = (await platform.create_account(SPEC)).login
    evaluation = Evaluation(rules())
    cursor = await poll_into(platform, login, evaluation, None)
    platform.advance(hours=2)
    position = platform.open_position(login, "EURUSD", "buy", "10", "1.10000")
    platform.advance(hours=3)
    platform.quote("EURUSD", "1.10500")
    platform.advance(hours=20)  # over the day boundary: the engine decides the reset on time
    platform.close_position(login, position, "1.11000")
    await poll_into(platform, login, evaluation, cursor)
    assert evaluation.status == "passed"
    assert evaluation.account.balance == Decimal("110000.00")


async def test_the_events_survive_the_journals_json_form() -> None:
    platform = RecordingPlatform({"contract_sizes": {"XAUUSD": "100"}})
    login = (await platform.create_account(SPEC)).login
    platform.advance(minutes=1)
    gold = platform.open_position(login, "XAUUSD", "sell", "0.25", "2010.55", commission="-3.5")
    platform.advance(minutes=1)
    platform.quote("XAUUSD", "2001.05")
    platform.close_position(login, gold, volume="0.1")
    await platform.deposit(login, Decimal("250.25"), "dep-1")
    platform.balance_operation(login, Decimal("-12.5"), "dealer correction")
    platform.snapshot(login)
    events: list[Event] = list(platform.journal(login))
    lines = [canonical_json(canonical(event)) for event in events]
    assert list(read_events(lines)) == events
    assert [json.loads(line)["type"] for line in lines] == [
        "account_opened",
        "deal",
        "snapshot",
        "deal",
        "balance",
        "balance",
        "snapshot",
    ]
    Evaluation(rules()).feed_all(events)  # and they evaluate
