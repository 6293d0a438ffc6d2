"""Jinja for the pages: one environment, the filters pages share (money stays Decimal)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def money(value: Decimal | int | str | None, currency: str = "") -> str:
    """``1234.5`` -> ``1,234.50 USD``: two places, thousands grouped; no float on the way."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}"
    return f"{text} {currency}".strip()


def percent(value: Decimal | int | str | None, places: int = 1) -> str:
    """A ratio (``0.125``) as ``12.5%``."""
    if value is None or value == "":
        return "—"
    ratio = Decimal(str(value)) * 100
    return f"{ratio:.{places}f}%"


def when(value: datetime | date | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp for people: UTC, minutes; a date as a date."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.strftime(fmt + (" UTC" if value.tzinfo is not None else ""))
    return value.isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def to_json(value: Any) -> str:
    """JSON for a ``data-`` attribute (autoescaped by Jinja there); Decimals as strings."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, when=when, to_json=to_json)
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
