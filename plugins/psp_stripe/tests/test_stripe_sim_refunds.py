"""Refunds (full, partial, too much; the charge's fields; their events) and disputes (opened
and closed through the control API; their events)."""

from __future__ import annotations

import httpx
import pytest
import stripe
from stripe_simkit import Receiver, session_params

from propdesk_psp_stripe.simulator import RunningSimulator


async def _paid(sim: RunningSimulator, client: stripe.StripeClient) -> tuple[str, str]:
    """A session paid by card: its PaymentIntent's and charge's ids."""
    session = client.v1.checkout.sessions.create(params=session_params())
    paid = await sim.control.pay(session.id)
    intent = client.v1.payment_intents.retrieve(paid["payment_intent"])
    assert isinstance(intent.latest_charge, str)
    return intent.id, intent.latest_charge


async def test_partial_then_full_refund_updates_the_charge(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    intent, charge = await _paid(sim, client)
    hooked.wait_for(2)
    partial = client.v1.refunds.create(
        params={
            "payment_intent": intent,
            "amount": 5500,
            "reason": "requested_by_customer",
            "metadata": {"refund_intent": "r-1"},
        },
        options={"idempotency_key": "refund:r-1"},
    )
    assert partial.id.startswith("re_") and partial.object == "refund"
    assert (partial.amount, partial.status, partial.charge, partial.payment_intent) == (
        5500, "succeeded", charge, intent,
    )  # fmt: skip
    assert partial.reason == "requested_by_customer"
    assert partial.metadata.to_dict() == {"refund_intent": "r-1"}
    after = client.v1.charges.retrieve(charge)
    assert (after.amount_refunded, after.refunded) == (5500, False)

    events = [r.event(sim.webhook_secret) for r in hooked.wait_for(5)[2:]]
    assert [e.type for e in events] == ["refund.created", "charge.refunded", "refund.updated"]
    created, refunded, updated = events
    assert created.data.object.id == partial.id and created.data.object.status == "pending"
    assert refunded.data.object.amount_refunded == 5500
    assert refunded.data.previous_attributes.to_dict() == {"amount_refunded": 0, "refunded": False}
    assert updated.data.object.status == "succeeded"
    assert updated.data.previous_attributes.status == "pending"
    assert created.request.id == partial.last_response.request_id
    assert created.request.idempotency_key == "refund:r-1"

    rest = client.v1.refunds.create(params={"charge": charge})  # the remainder
    assert rest.amount == 10000
    after = client.v1.charges.retrieve(charge)
    assert (after.amount_refunded, after.refunded) == (15500, True)
    assert client.v1.refunds.retrieve(partial.id).amount == 5500
    listed = client.v1.refunds.list(params={"payment_intent": intent})
    assert [r.id for r in listed.data] == [rest.id, partial.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent})
    assert caught.value.code == "charge_already_refunded"


async def test_refund_refusals(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    intent, charge = await _paid(sim, client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent, "amount": 15501})
    assert (caught.value.http_status, caught.value.param) == (400, "amount")
    assert "greater than unrefunded amount on charge ($155.00)" in str(caught.value)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent, "reason": "boredom"})
    assert caught.value.param == "reason"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"metadata": {"x": "1"}})
    assert caught.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert (caught.value.http_status, caught.value.param) == (404, "payment_intent")

    unpaid = client.v1.checkout.sessions.create(params=session_params())
    declined = await sim.control.pay(unpaid.id, "declined")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": declined["payment_intent"]})
    assert caught.value.code == "charge_not_refundable"
    # Nothing was refunded by the refusals.
    assert client.v1.charges.retrieve(charge).amount_refunded == 0


async def test_dispute_opened_and_won(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    intent, charge = await _paid(sim, client)
    dispute = await sim.control.open_dispute(payment_intent=intent, reason="fraudulent")
    assert dispute["id"].startswith("dp_") and dispute["status"] == "needs_response"
    assert (dispute["charge"], dispute["payment_intent"], dispute["amount"]) == (
        charge, intent, 15500,
    )  # fmt: skip
    assert client.v1.charges.retrieve(charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": charge})
    assert caught.value.code == "charge_disputed"

    closed = await sim.control.close_dispute(dispute["id"], "won")
    assert closed["status"] == "won"
    fetched = client.v1.disputes.retrieve(dispute["id"])
    assert fetched.status == "won" and len(fetched.balance_transactions) == 2
    events = [r.event(sim.webhook_secret) for r in hooked.wait_for(6)[2:]]
    assert [e.type for e in events] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    assert events[0].data.object.status == "needs_response"
    assert events[2].data.object.status == "won"
    assert events[2].data.previous_attributes.status == "needs_response"
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await sim.control.close_dispute(dispute["id"], "lost")
    assert refused.value.response.status_code == 400


async def test_dispute_lost(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    _, charge = await _paid(sim, client)
    dispute = await sim.control.open_dispute(charge=charge, reason="product_not_received")
    await sim.control.close_dispute(dispute["id"], "lost")
    events = [r.event(sim.webhook_secret) for r in hooked.wait_for(5)[2:]]
    assert [e.type for e in events] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    assert events[2].data.object.status == "lost"
    assert events[2].data.object.reason == "product_not_received"
    assert [d.id for d in client.v1.disputes.list(params={"charge": charge}).data] == [
        dispute["id"]
    ]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await sim.control.open_dispute(charge=charge)
    assert refused.value.response.json()["error"]["code"] == "charge_not_disputable"
