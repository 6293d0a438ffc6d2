"""The quote, the request and the approval cannot disagree.

All three call ``case.quote_of`` on the policy ``funded_account`` resolves. The request keeps
the case it was quoted on as JSON, and the approval quotes that case again: so the round trip
through JSON must give the same quote for any case and policy, and an approval with nothing
changed must pay exactly the requested amount. Hypothesis searches for a counterexample.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.payouts.eligibility import PayoutCase, quote
from propdesk.payouts.service import case_from_json, case_json

CENTS = st.decimals(min_value=Decimal("-20000"), max_value=Decimal("60000"), places=2)
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@st.composite
def policies(draw: st.DrawFn) -> dict[str, object]:
    policy: dict[str, object] = {
        "split_percent": str(draw(st.sampled_from(["50", "80", "90", "92.5", "100"]))),
        "cadence": draw(st.sampled_from(["on_demand", "weekly", "biweekly", "monthly"])),
        "first_after_days": draw(st.integers(0, 30)),
        "min_amount": str(draw(st.sampled_from(["0", "50.00", "150.00", "1000.00"]))),
        "flat_required": draw(st.booleans()),
    }
    if draw(st.booleans()):
        policy["profit_cap_percent"] = str(draw(st.sampled_from(["1", "5", "10"])))
    if draw(st.booleans()):
        policy["consistency"] = {"best_day_max_percent": draw(st.sampled_from(["20", "40", "50"]))}
    if draw(st.booleans()):
        policy["split_tiers"] = [{"from_payout": 3, "split_percent": "95"}]
    return policy


@st.composite
def cases(draw: st.DrawFn) -> PayoutCase:
    funded_at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    days = draw(st.lists(CENTS, max_size=12))
    last = draw(st.one_of(st.none(), st.integers(1, 90)))
    return PayoutCase(
        now=funded_at + timedelta(hours=draw(st.integers(0, 24 * 120))),
        funded_at=funded_at,
        initial_balance=Decimal(draw(st.sampled_from(["5000", "100000", "200000.00"]))),
        balance=Decimal("100000") + draw(CENTS),
        open_positions=draw(st.integers(0, 3)),
        daily_profits=[(date(2026, 3, 1) + timedelta(days=i), p) for i, p in enumerate(days)],
        payouts_paid=draw(st.integers(0, 5)),
        last_payout_at=None if last is None else funded_at + timedelta(days=last),
        kyc_status=draw(
            st.sampled_from(
                ["approved", "pending", "rejected_retry", "rejected_final", "not_started"]
            )
        ),
        fee_paid=draw(st.sampled_from([Decimal(0), Decimal("540.00")])),
    )


PRODUCT = {"payout": {"kyc_required": True}}


@settings(max_examples=400, deadline=None)
@given(policy=policies(), case=cases(), refund_with=st.sampled_from([None, 1, 2]))
def test_the_approval_quotes_the_requested_case_to_the_cent(
    policy: dict[str, object], case: PayoutCase, refund_with: int | None
) -> None:
    asked = quote(policy, case, product=PRODUCT, fee_refund_with=refund_with)
    frozen = case_from_json(case_json(case))
    assert frozen == case
    again = quote(policy, frozen, product=PRODUCT, fee_refund_with=refund_with)
    assert again == asked
    # Every refusal names its rule, and each that is about numbers gives them (identity is not).
    for refusal in asked.refusals:
        assert refusal.rule and refusal.message
        if refusal.rule != "kyc":
            assert any(ch.isdigit() for ch in refusal.message), refusal
