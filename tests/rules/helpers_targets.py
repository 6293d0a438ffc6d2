"""Plain-value builders for the target and time-based rule tests (profit target, trading
days, consistency, time limit, inactivity)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from propdesk.rules.clock import LocalTime
from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import read_events
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.plugin import STANDARD_FAMILIES

FAMILIES = {family.code: family for family in STANDARD_FAMILIES}
PRAGUE = {"time": "00:00", "timezone": "Europe/Prague"}


def phase(day: Mapping[str, str] = PRAGUE) -> PhaseContext:
    return PhaseContext("test", "phase1", "USD", LocalTime.parse(dict(day)))


def make(
    family: str,
    params: Mapping[str, Any],
    rule_id: str | None = None,
    day: Mapping[str, str] = PRAGUE,
) -> RuleFamily:
    return FAMILIES[family](rule_id or family, params, phase(day))


def schema_errors(family: str, params: Mapping[str, Any]) -> list[str]:
    validator = Draft202012Validator(FAMILIES[family].settings_schema)
    return [error.message for error in validator.iter_errors(params)]


def opened(time: str, balance: str = "100000") -> dict[str, Any]:
    return {"type": "account_opened", "time": time, "balance": balance}


def snap(time: str, balance: str, equity: str | None = None) -> dict[str, Any]:
    return {"type": "snapshot", "time": time, "balance": balance, "equity": equity or balance}


_deals = iter(range(1, 1_000_000))


def deal(
    time: str,
    position: str,
    entry: str,
    profit: str = "0",
    volume: str = "1",
    commission: str = "0",
) -> dict[str, Any]:
    return {
        "type": "deal",
        "time": time,
        "id": f"d{next(_deals)}",
        "position": position,
        "symbol": "EURUSD",
        "side": "buy",
        "entry": entry,
        "volume": volume,
        "price": "1.1",
        "profit": profit,
        "commission": commission,
    }


def trade(opened_at: str, closed_at: str, position: str, profit: str) -> list[dict[str, Any]]:
    """A position opened and closed completely, with its closing profit."""
    return [deal(opened_at, position, "in"), deal(closed_at, position, "out", profit)]


def run(
    rules: Iterable[RuleFamily],
    rows: Iterable[Mapping[str, Any]],
    until: str | None = None,
) -> Evaluation:
    ordered = sorted(rows, key=lambda row: datetime.fromisoformat(row["time"]))
    evaluation = Evaluation(list(rules)).feed_all(read_events(json.dumps(row) for row in ordered))
    if until is not None:
        evaluation.advance(datetime.fromisoformat(until))
    return evaluation


def objective(evaluation: Evaluation, rule_id: str) -> dict[str, Any]:
    return next(o for o in evaluation.verdict()["objectives"] if o["rule"] == rule_id)


def statuses(evaluation: Evaluation) -> list[str]:
    return [entry["status"] for entry in evaluation.history]
