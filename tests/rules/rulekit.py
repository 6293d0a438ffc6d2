"""Building evaluations from plain values in tests (shared by the rule tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from propdesk.rules.clock import LocalTime
from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import Event, read_events
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.plugin import STANDARD_FAMILIES

FAMILIES = {family.code: family for family in STANDARD_FAMILIES}


def context(time: str = "00:00", timezone: str = "Europe/Prague") -> PhaseContext:
    return PhaseContext(
        "test", "phase1", "USD", LocalTime.parse({"time": time, "timezone": timezone})
    )


def rule(family: str, params: Mapping[str, Any], ctx: PhaseContext | None = None) -> RuleFamily:
    return FAMILIES[family](family, params, ctx or context())


def events(*rows: Mapping[str, Any]) -> list[Event]:
    return list(read_events(json.dumps(row) for row in rows))


def opened(time: str, balance: str = "100000") -> dict[str, Any]:
    return {"type": "account_opened", "time": time, "balance": balance}


def snap(time: str, balance: str, equity: str | None = None) -> dict[str, Any]:
    return {"type": "snapshot", "time": time, "balance": balance, "equity": equity or balance}


def evaluate(
    rules: Iterable[RuleFamily], rows: Iterable[Mapping[str, Any]], until: str | None = None
) -> Evaluation:
    evaluation = Evaluation(list(rules)).feed_all(events(*rows))
    if until is not None:
        evaluation.advance(datetime.fromisoformat(until))
    return evaluation


def objective(evaluation: Evaluation, rule_id: str) -> dict[str, Any]:
    return next(o for o in evaluation.verdict()["objectives"] if o["rule"] == rule_id)
