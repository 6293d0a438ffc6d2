"""KYC gates: where a product asks for an approved identity check, and what a held trader is
told to do."""

from __future__ import annotations

import pytest

from propdesk.kyc.gates import held, required

PRODUCT = {"payout": {"split_percent": "80", "kyc_required": True}}
STRICT = {**PRODUCT, "kyc": {"before_purchase": True, "before_funded": True}}
LAX = {"payout": {"split_percent": "80", "kyc_required": False}, "kyc": {"before_funded": False}}


def test_by_default_funding_and_payouts_need_it_and_buying_does_not() -> None:
    assert [required(PRODUCT, s) for s in ("purchase", "funded", "payout")] == [False, True, True]
    assert [required(LAX, s) for s in ("purchase", "funded", "payout")] == [False, False, False]


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("not_started", "verify your identity"),
        ("pending", "wait for the identity check"),
        ("rejected_retry", "submit your documents again"),
        ("rejected_final", "contact support"),
    ],
)
def test_a_held_trader_is_told_why_and_what_to_do(status: str, advice: str) -> None:
    why = held(STRICT, "purchase", status, reason="blurred photo")
    assert why is not None and "before buying this challenge" in why and advice in why
    assert ("blurred photo" in why) == status.startswith("rejected")
    assert held(STRICT, "purchase", "approved") is None
    assert held(LAX, "funded", status) is None
