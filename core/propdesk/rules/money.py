"""Decimal helpers: parsing amounts and percentages, and showing them to people."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

#: JSON Schema of a money amount or percentage written as a decimal string.
DECIMAL_STRING = {"type": "string", "pattern": r"^-?\d{1,15}(\.\d{1,8})?$"}
NON_NEGATIVE_DECIMAL = {"type": "string", "pattern": r"^\d{1,15}(\.\d{1,8})?$"}
PERCENT = {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,6})?$"}


def parse_decimal(value: object) -> Decimal:
    """A decimal string (or integer) as ``Decimal``; floats are refused, they are inexact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{value!r} is a JSON number; write amounts as decimal strings")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a decimal string")
    try:
        result = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return result


def percent_of(percent: Decimal, base: Decimal) -> Decimal:
    return base * percent / HUNDRED


def plain(value: Decimal) -> str:
    """Canonical text of an exact amount: no exponent, no trailing zeros beyond cents."""
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    else:
        text = f"{text}.00"
    return "0.00" if text in ("-0.00",) else text


def money(value: Decimal) -> str:
    """An amount for people: thousands separators, cents (``94,870.00``)."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN):,.2f}"


def pct(value: Decimal) -> str:
    """A percentage for people: ``5%``, ``2.5%``."""
    text = format(value.normalize(), "f")
    return f"{text}%"
