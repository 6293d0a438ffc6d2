"""Order prices from the pinned product: sizes, add-ons, resets, retries and coupons, to the cent;
every refusal names its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.errors import InvalidInput
from propdesk.orders.pricing import Coupon, Retry, Usage, coupon_refusal, price_order

ROOT = Path(__file__).resolve().parents[2]
TWO_STEP: dict[str, Any] = json.loads(
    (ROOT / "tenants/aurora_fx/challenges/two-step.json").read_text()
)
WITH_RETRY = {**TWO_STEP, "retry": {"discount_percent": "20", "within_days": 7}}
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def problems(refused: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in refused.value.problems}


def test_a_purchase_is_the_size_plus_each_add_on_in_the_order_currency() -> None:
    price = price_order(
        TWO_STEP, kind="purchase", size="100k", addons=["split-90"], currency="EUR", at=NOW
    )
    assert [(x.kind, x.code, x.amount) for x in price.lines] == [
        ("size", "100k", Decimal("540.00")),
        ("addon", "split-90", Decimal("55.00")),
    ]
    assert (price.subtotal, price.discount, price.total) == (
        Decimal("595.00"),
        Decimal(0),
        Decimal("595.00"),
    )


def test_unknown_size_add_on_and_currency_are_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        price_order(TWO_STEP, kind="purchase", size="7k", addons=[], currency="USD", at=NOW)
    assert "unknown size '7k'" in problems(refused)["size"]
    with pytest.raises(InvalidInput) as refused:
        price_order(
            TWO_STEP,
            kind="purchase",
            size="10k",
            addons=["nope", "split-90"],
            currency="JPY",
            at=NOW,
        )
    found = problems(refused)
    assert "unknown add-on 'nope'" in found["addons/0"]
    assert "no price in JPY" in found["currency"] and "no price in JPY" in found["addons/1"]


def test_a_reset_has_its_own_price_and_a_product_without_resets_refuses() -> None:
    price = price_order(TWO_STEP, kind="reset", size="100k", addons=[], currency="GBP", at=NOW)
    assert price.total == Decimal("79.00")
    with pytest.raises(InvalidInput) as refused:
        price_order(
            {**TWO_STEP, "reset": None},
            kind="reset",
            size="100k",
            addons=[],
            currency="USD",
            at=NOW,
        )
    assert "no reset" in problems(refused)["kind"]


def test_a_retry_within_the_window_is_discounted_and_later_it_is_not() -> None:
    soon = price_order(
        WITH_RETRY,
        kind="retry",
        size="100k",
        addons=[],
        currency="USD",
        at=NOW,
        retry=Retry(NOW - timedelta(days=3)),
    )
    assert soon.total == Decimal("476.00")  # 595 less 20%
    late = price_order(
        WITH_RETRY,
        kind="retry",
        size="100k",
        addons=[],
        currency="USD",
        at=NOW,
        retry=Retry(NOW - timedelta(days=8)),
    )
    assert late.total == Decimal("595.00")


def test_a_percent_coupon_rounds_half_up_to_the_cent_and_carries_its_partner() -> None:
    coupon = Coupon("FALL15", "percent", Decimal("15"), partner_code="IB-7")
    price = price_order(
        TWO_STEP, kind="purchase", size="10k", addons=[], currency="USD", at=NOW, coupon=coupon
    )
    assert price.discount == Decimal("25.35")  # 15% of 169.00 = 25.35
    assert price.total == Decimal("143.65")
    assert (price.coupon, price.partner_code) == ("FALL15", "IB-7")
    odd = price_order(
        TWO_STEP,
        kind="purchase",
        size="10k",
        addons=[],
        currency="EUR",
        at=NOW,
        coupon=Coupon("ODD", "percent", Decimal("12.5")),
    )
    assert odd.discount == Decimal("19.38")  # 12.5% of 155.00 = 19.375 -> 19.38


@pytest.mark.parametrize(
    ("coupon", "usage", "country", "reason"),
    [
        (Coupon("X", "percent", Decimal(10), active=False), Usage(), "DE", "withdrawn"),
        (
            Coupon("X", "percent", Decimal(10), valid_from=NOW + timedelta(hours=1)),
            Usage(),
            "DE",
            "valid from",
        ),
        (Coupon("X", "percent", Decimal(10), valid_until=NOW), Usage(), "DE", "expired"),
        (Coupon("X", "percent", Decimal(10), max_uses=100), Usage(total=100), "DE", "100 times"),
        (
            Coupon("X", "percent", Decimal(10), max_uses_per_trader=1),
            Usage(by_trader=1),
            "DE",
            "per trader",
        ),
        (
            Coupon("X", "percent", Decimal(10), products=frozenset({"one-step"})),
            Usage(),
            "DE",
            "does not apply to two-step",
        ),
        (
            Coupon("X", "percent", Decimal(10), countries=frozenset({"GB"})),
            Usage(),
            "DE",
            "your country",
        ),
        (Coupon("X", "fixed", Decimal(10), currency="EUR"), Usage(), "DE", "amount in EUR"),
    ],
)
def test_a_coupon_that_does_not_apply_says_why(
    coupon: Coupon, usage: Usage, country: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        price_order(
            TWO_STEP,
            kind="purchase",
            size="10k",
            addons=[],
            currency="USD",
            at=NOW,
            coupon=coupon,
            usage=usage,
            country=country,
        )
    assert reason in problems(refused)["coupon"]
    assert (
        coupon_refusal(
            Coupon("OK", "percent", Decimal(10)),
            product_code="two-step",
            currency="USD",
            country=country,
            at=NOW,
            usage=usage,
        )
        is None
    )


@given(
    size=st.sampled_from([s["code"] for s in TWO_STEP["sizes"]]),
    addons=st.sets(st.sampled_from([a["code"] for a in TWO_STEP["addons"]])),
    currency=st.sampled_from(["USD", "EUR", "GBP"]),
    percent=st.decimals(min_value=0, max_value=100, places=2),
    fixed=st.decimals(min_value=Decimal("0.01"), max_value=5000, places=2),
)
def test_a_coupon_never_takes_more_than_the_subtotal(
    size: str, addons: set[str], currency: str, percent: Decimal, fixed: Decimal
) -> None:
    for coupon in (
        Coupon("P", "percent", percent),
        Coupon("F", "fixed", fixed, currency=currency),
    ):
        price = price_order(
            TWO_STEP,
            kind="purchase",
            size=size,
            addons=sorted(addons),
            currency=currency,
            at=NOW,
            coupon=coupon,
        )
        assert Decimal(0) <= price.discount <= price.subtotal
        assert price.total == price.subtotal - price.discount >= 0
        assert price.total == price.total.quantize(Decimal("0.01"))
