"""Deals, news and parameter checks for the guard-rule tests (size, per-trade, flat, news)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from rulekit import FAMILIES

from propdesk.rules.clock import is_timezone
from propdesk.rules.evaluator import Evaluation

_FORMATS = FormatChecker()
_FORMATS.checks("iana-timezone")(is_timezone)


def deal(
    time: str,
    position: str,
    entry: str = "in",
    volume: str = "1",
    *,
    symbol: str = "EURUSD",
    side: str = "buy",
    profit: str = "0",
    commission: str = "0",
    swap: str = "0",
    id: str | None = None,
) -> dict[str, Any]:
    return {
        "type": "deal",
        "time": time,
        "id": id or f"{position}-{entry}-{time}",
        "position": position,
        "symbol": symbol,
        "side": side,
        "entry": entry,
        "volume": volume,
        "price": "1.1",
        "profit": profit,
        "commission": commission,
        "swap": swap,
    }


def news(
    time: str,
    at: str,
    symbols: tuple[str, ...] = ("EURUSD", "US30"),
    impact: str = "high",
    title: str = "US Non-Farm Payrolls",
) -> dict[str, Any]:
    return {
        "type": "news",
        "time": time,
        "at": at,
        "title": title,
        "symbols": list(symbols),
        "impact": impact,
    }


def problems(family: str, params: Mapping[str, Any]) -> list[str]:
    """What the family's schema says about ``params`` (empty when they are valid)."""
    schema = FAMILIES[family].settings_schema
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=_FORMATS)
    return [error.message for error in validator.iter_errors(params)]


def notices(run: Evaluation, kind: str | None = None) -> list[dict[str, Any]]:
    return [n for n in run.notices if kind is None or n["kind"] == kind]


def statuses(run: Evaluation) -> list[tuple[str, str]]:
    return [(entry["time"], entry["status"]) for entry in run.history]
