"""What a phase of the product says the actions do: no database, no engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from enginekit import PRODUCT
from test_actions import without_closing

from propdesk.engine.actions import close_positions_on_breach
from propdesk.engine.provisioning import account_reference, phase_account

TRADER = "ana@traders.example"


def test_positions_close_on_breach_unless_the_phase_says_otherwise() -> None:
    assert close_positions_on_breach(PRODUCT, 0) is True
    assert close_positions_on_breach(without_closing(PRODUCT), 0) is False
    assert close_positions_on_breach(without_closing(PRODUCT), 1) is True


def test_the_account_spec_comes_from_the_pinned_product_and_the_size() -> None:
    funded = phase_account(
        PRODUCT,
        challenge_id=12345678,
        phase=1,
        attempt=3,
        size_code="100k",
        addons=(),
        trader_name="Ana",
        trader_email=TRADER,
    )
    assert funded.platform == "recording" and funded.phase_code == "funded"
    assert funded.spec.group == "real\\engine\\funded"
    assert funded.spec.leverage == 100
    assert funded.spec.initial_balance == Decimal("100000")
    assert funded.spec.currency == "USD"
    assert funded.spec.reference == account_reference(12345678, 1, 3) == "c12345678p1a3"
    with pytest.raises(LookupError, match="no phase 3"):
        phase_account(
            PRODUCT,
            challenge_id=1,
            phase=2,
            attempt=1,
            size_code="100k",
            addons=(),
            trader_name="",
            trader_email="",
        )
