"""What an order costs: the product's price for a size and add-ons, a reset or a retry, less a
coupon. Pure: no I/O; every refusal names the field it is about.

Prices come from the pinned product version in the order's currency (the product lists one
price per currency). A purchase is the size plus each add-on; a reset is the product's reset
price; a retry is a purchase of the failed size and add-ons, less the product's retry discount
when it comes within the window after the failure. A coupon applies last: a percentage of the
subtotal (rounded half up to the cent) or a fixed amount in the order's currency, never more
than the subtotal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from propdesk.errors import FieldProblem, InvalidInput

OrderKind = Literal["purchase", "reset", "retry"]
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Coupon:
    """A desk's coupon (or promotion) as its staff defined it."""

    code: str
    kind: Literal["percent", "fixed"]
    #: Percent (``"20"``) or an amount in ``currency``.
    value: Decimal
    #: Only for ``fixed``: the currency the amount is in (orders in others cannot use it).
    currency: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_trader: int | None = None
    #: Product codes it is restricted to (any when ``None``).
    products: frozenset[str] | None = None
    #: Trader countries (ISO 3166 alpha-2) it is restricted to (any when ``None``).
    countries: frozenset[str] | None = None
    #: The partner (affiliate, IB) the coupon credits, for the affiliate layer.
    partner_code: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Usage:
    """How often a coupon was used already: in total, and by this trader."""

    total: int = 0
    by_trader: int = 0


@dataclass(frozen=True, slots=True)
class PriceLine:
    kind: Literal["size", "addon", "reset", "retry_discount", "coupon"]
    code: str
    #: Positive for a charge, negative for a discount.
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Price:
    currency: str
    lines: tuple[PriceLine, ...]
    coupon: str | None
    partner_code: str | None

    @property
    def subtotal(self) -> Decimal:
        return sum((x.amount for x in self.lines if x.kind != "coupon"), Decimal(0))

    @property
    def discount(self) -> Decimal:
        return -sum((x.amount for x in self.lines if x.kind == "coupon"), Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class Retry:
    """The failed attempt a retry follows: when it failed."""

    failed_at: datetime


def price_order(
    product: Mapping[str, Any],
    *,
    kind: OrderKind,
    size: str,
    addons: Sequence[str],
    currency: str,
    at: datetime,
    country: str | None = None,
    coupon: Coupon | None = None,
    usage: Usage = Usage(),
    retry: Retry | None = None,
) -> Price:
    """The price of an order, line by line.

    :raises InvalidInput: an unknown size, add-on or currency, a product without resets, or a
        coupon that does not apply (each problem names its field and why).
    """
    problems: list[FieldProblem] = []
    lines = _base_lines(product, kind, size, addons, currency, problems)
    if kind == "retry":
        lines += _retry_discount(product, lines, retry, at, problems)
    if problems:
        raise InvalidInput("the order cannot be priced", problems=problems)
    price = Price(currency, tuple(lines), None, None)
    if coupon is None:
        return price
    refusal = coupon_refusal(
        coupon,
        product_code=str(product.get("code")),
        currency=currency,
        country=country,
        at=at,
        usage=usage,
    )
    if refusal is not None:
        raise InvalidInput(
            f"coupon {coupon.code} cannot be used", problems=[FieldProblem("coupon", refusal)]
        )
    off = _coupon_amount(coupon, price.subtotal)
    coupon_lines = (PriceLine("coupon", coupon.code, -off),) if off else ()
    return Price(currency, price.lines + coupon_lines, coupon.code, coupon.partner_code)


def _prices(entry: Mapping[str, Any]) -> Mapping[str, str]:
    prices = entry.get("prices")
    return prices if isinstance(prices, Mapping) else {}


def _base_lines(
    product: Mapping[str, Any],
    kind: OrderKind,
    size: str,
    addons: Sequence[str],
    currency: str,
    problems: list[FieldProblem],
) -> list[PriceLine]:
    if kind == "reset":
        reset = product.get("reset")
        if not isinstance(reset, Mapping):
            problems.append(FieldProblem("kind", "this product offers no reset"))
            return []
        return _priced("reset", "reset", _prices(reset), currency, "currency", problems)
    sizes = {s.get("code"): s for s in product.get("sizes", ())}
    if size not in sizes:
        known = ", ".join(str(code) for code in sizes)
        problems.append(FieldProblem("size", f"unknown size {size!r} (sizes: {known})"))
        return []
    lines = _priced("size", size, _prices(sizes[size]), currency, "currency", problems)
    offered = {a.get("code"): a for a in product.get("addons", ())}
    if len(set(addons)) != len(addons):
        problems.append(FieldProblem("addons", "an add-on is listed twice"))
    for i, code in enumerate(addons):
        if code not in offered:
            problems.append(FieldProblem(f"addons/{i}", f"unknown add-on {code!r}"))
            continue
        lines += _priced("addon", code, _prices(offered[code]), currency, f"addons/{i}", problems)
    return lines


def _priced(
    kind: Literal["size", "addon", "reset"],
    code: str,
    prices: Mapping[str, str],
    currency: str,
    where: str,
    problems: list[FieldProblem],
) -> list[PriceLine]:
    if currency not in prices:
        offered = ", ".join(sorted(prices)) or "none"
        problems.append(FieldProblem(where, f"{code} has no price in {currency} ({offered})"))
        return []
    return [PriceLine(kind, code, Decimal(prices[currency]))]


def _retry_discount(
    product: Mapping[str, Any],
    lines: list[PriceLine],
    retry: Retry | None,
    at: datetime,
    problems: list[FieldProblem],
) -> list[PriceLine]:
    if retry is None:
        problems.append(FieldProblem("retry_of", "a retry names the failed challenge"))
        return []
    terms = product.get("retry")
    if not isinstance(terms, Mapping) or at - retry.failed_at > timedelta(
        days=int(terms["within_days"])
    ):
        return []  # no discount (none offered, or too late): a retry at the full price
    subtotal = sum((x.amount for x in lines), Decimal(0))
    off = _percent_of(subtotal, Decimal(terms["discount_percent"]))
    return [PriceLine("retry_discount", "retry", -off)] if off else []


def coupon_refusal(
    coupon: Coupon,
    *,
    product_code: str,
    currency: str,
    country: str | None,
    at: datetime,
    usage: Usage,
) -> str | None:
    """Why ``coupon`` cannot be used for this order, or ``None`` when it can."""
    if not coupon.active:
        return "it has been withdrawn"
    if coupon.valid_from is not None and at < coupon.valid_from:
        return f"it is valid from {coupon.valid_from.isoformat()}"
    if coupon.valid_until is not None and at >= coupon.valid_until:
        return f"it expired at {coupon.valid_until.isoformat()}"
    if coupon.max_uses is not None and usage.total >= coupon.max_uses:
        return f"it has been used the {coupon.max_uses} times it allows"
    if coupon.max_uses_per_trader is not None and usage.by_trader >= coupon.max_uses_per_trader:
        return f"you have used it the {coupon.max_uses_per_trader} time(s) it allows per trader"
    if coupon.products is not None and product_code not in coupon.products:
        return f"it does not apply to {product_code}"
    if coupon.countries is not None and (country or "").upper() not in coupon.countries:
        return "it does not apply in your country"
    if coupon.kind == "fixed" and coupon.currency != currency:
        return f"it is an amount in {coupon.currency}; this order is in {currency}"
    return None


def _coupon_amount(coupon: Coupon, subtotal: Decimal) -> Decimal:
    if coupon.kind == "percent":
        return _percent_of(subtotal, coupon.value)
    return min(coupon.value, subtotal)


def _percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return min(amount, (amount * percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP))
