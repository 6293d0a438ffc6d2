"""The Stripe payment provider against the simulator: a checkout carries the order reference,
its webhooks verify and map onto the core's payment events, stale or forged ones are rejected,
refunds are idempotent by reference."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from stripe_simkit import Receiver

from propdesk.payments.contract import (
    CheckoutRequest,
    PaymentProvider,
    PaymentRefused,
    WebhookRejected,
)
from propdesk_psp_stripe.adapter import StripePayments, from_minor, to_minor
from propdesk_psp_stripe.simulator import RunningSimulator

KEY_ENV, HOOK_ENV = "PROPDESK_TEST_STRIPE_KEY", "PROPDESK_TEST_STRIPE_WHSEC"


@pytest.fixture
async def payments(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StripePayments]:
    monkeypatch.setenv(KEY_ENV, sim.secret_key)
    monkeypatch.setenv(HOOK_ENV, sim.webhook_secret)
    made = StripePayments(
        {"api_key": {"env": KEY_ENV}, "webhook_secret": {"env": HOOK_ENV}, "api_base": sim.url}
    )
    yield made
    await made.close()


def checkout(order: int, amount: str = "595.00", currency: str = "USD") -> CheckoutRequest:
    return CheckoutRequest(
        order_reference=f"order:{order}",
        amount=Decimal(amount),
        currency=currency,
        description="100K Two-Step Challenge",
        customer_email="ana@traders.example",
        success_url="https://desk.example/orders/1/paid",
        cancel_url="https://desk.example/orders/1",
        idempotency_key=f"checkout:order:{order}",
    )


def parse(payments: StripePayments, received: list, *, now: datetime | None = None) -> list:
    at = now or datetime.now(UTC)
    return [payments.parse_webhook(r.body, r.headers, now=at) for r in received]


async def test_it_is_a_payment_provider_and_converts_minor_units() -> None:
    assert isinstance(
        StripePayments({"api_key": {"env": "X"}, "webhook_secret": {"env": "Y"}}), PaymentProvider
    )
    assert to_minor(Decimal("595.00"), "USD") == 59500
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert from_minor(19375, "EUR") == Decimal("193.75")
    with pytest.raises(PaymentRefused):
        to_minor(Decimal("1.005"), "USD")


async def test_a_paid_checkout_reports_one_payment_for_its_order(
    sim: RunningSimulator, payments: StripePayments, hooked: Receiver
) -> None:
    made = await payments.create_checkout(checkout(42))
    again = await payments.create_checkout(checkout(42))  # the same request, repeated
    assert again.reference == made.reference and made.url.startswith(sim.url)
    await sim.control.pay(made.reference)
    await sim.control.wait_idle()
    events = parse(payments, hooked.wait_for(2))
    paid = [e for e in events if e.kind == "payment.succeeded"]
    assert {e.provider_type for e in paid} == {
        "checkout.session.completed",
        "payment_intent.succeeded",
    }
    assert {(e.order_reference, e.amount, e.currency) for e in paid} == {
        ("order:42", Decimal("595.00"), "USD")
    }
    assert len({e.payment_reference for e in paid}) == 1 and paid[0].payment_reference


async def test_forged_and_stale_webhooks_are_rejected(
    sim: RunningSimulator, payments: StripePayments, hooked: Receiver
) -> None:
    made = await payments.create_checkout(checkout(7))
    await sim.control.pay(made.reference)
    [first, *_] = hooked.wait_for(2)
    with pytest.raises(WebhookRejected, match="older than"):
        parse(payments, [first], now=datetime.now(UTC) + timedelta(seconds=301))
    with pytest.raises(WebhookRejected, match="no v1 signature matches"):
        payments.parse_webhook(first.body + b" ", first.headers, now=datetime.now(UTC))
    with pytest.raises(WebhookRejected, match="no Stripe-Signature"):
        payments.parse_webhook(first.body, {}, now=datetime.now(UTC))
    await sim.control.set_webhook_mode(bad_signature=True, count=1)
    await sim.control.redeliver(first.json()["id"], bad_signature=True)
    forged = hooked.wait_for(3)[-1]
    with pytest.raises(WebhookRejected):
        parse(payments, [forged])


async def test_refunds_are_idempotent_by_reference_and_reported(
    sim: RunningSimulator, payments: StripePayments, hooked: Receiver
) -> None:
    made = await payments.create_checkout(checkout(9, "100.00"))
    await sim.control.pay(made.reference)
    paid = [e for e in parse(payments, hooked.wait_for(2)) if e.kind == "payment.succeeded"]
    payment = paid[0].payment_reference
    assert payment is not None
    first = await payments.refund(payment, Decimal("40.00"), "USD", "refund-1")
    repeat = await payments.refund(payment, Decimal("40.00"), "USD", "refund-1")
    assert repeat.reference == first.reference and first.amount == Decimal("40.00")
    with pytest.raises(PaymentRefused):
        await payments.refund(payment, Decimal("70.00"), "USD", "refund-2")  # over what is left
    await sim.control.wait_idle()
    await asyncio.sleep(0.1)
    refunds = [e for e in parse(payments, hooked.received) if e.kind == "refund.succeeded"]
    assert {(e.refund_reference, e.amount, e.payment_reference) for e in refunds} == {
        (first.reference, Decimal("40.00"), payment)
    }


async def test_disputes_are_reported_with_their_outcome(
    sim: RunningSimulator, payments: StripePayments, hooked: Receiver
) -> None:
    made = await payments.create_checkout(checkout(11, "250.00"))
    await sim.control.pay(made.reference)
    paid = [e for e in parse(payments, hooked.wait_for(2)) if e.kind == "payment.succeeded"]
    dispute = await sim.control.open_dispute(payment_intent=paid[0].payment_reference)
    await sim.control.close_dispute(dispute["id"], "lost")
    await sim.control.wait_idle()
    await asyncio.sleep(0.1)
    kinds = [
        (e.kind, e.dispute_outcome)
        for e in parse(payments, hooked.received)
        if e.kind.startswith("dispute")
    ]
    assert ("dispute.opened", None) in kinds and ("dispute.closed", "lost") in kinds
