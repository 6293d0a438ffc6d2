"""Checkout Sessions through the real SDK: creation (the bracket encoding round trips),
validation errors, retrieve with expand, lists, paying with every outcome, the hosted page,
and expiry."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import stripe
from stripe_simkit import Receiver, session_params

from propdesk_psp_stripe.simulator import RunningSimulator

PRICE = {"currency": "usd", "unit_amount": 15500, "product_data": {"name": "A"}}

PRICE = {"currency": "usd", "unit_amount": 15500, "product_data": {"name": "A"}}


def test_create_round_trips_the_bracket_encoding(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    expires_at = int(time.time()) + 3600
    params = session_params(
        line_items=[
            {
                "price_data": {
                    "currency": "USD",
                    "unit_amount": 15500,
                    "product_data": {"name": "100K Two-Step Challenge"},
                },
                "quantity": 1,
            },
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 2500,
                    "product_data": {"name": "Add-on: 90/10 split"},
                },
                "quantity": 2,
            },
        ],
        metadata={"order_id": "42", "note": "a&b=c [x] é", "tenant": "acme"},
        expires_at=expires_at,
    )
    session = client.v1.checkout.sessions.create(params=params)
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert session.metadata.to_dict() == {"order_id": "42", "note": "a&b=c [x] é", "tenant": "acme"}
    assert (session.amount_subtotal, session.amount_total, session.currency) == (
        20500,
        20500,
        "usd",
    )
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.payment_intent is None and session.livemode is False
    assert (
        session.client_reference_id == "order-42" and session.customer_email == "trader@example.com"
    )
    assert session.expires_at == expires_at
    assert session.url == f"{sim.url}/checkout/{session.id}"
    assert session.last_response is not None
    assert session.last_response.request_id.startswith("req_")

    # What the simulator parsed from the SDK's form body: the nesting is intact.
    with sim.simulator.lock:
        logged = [r for r in sim.simulator.requests if r["method"] == "POST"][-1]
    assert logged["params"]["line_items"]["1"]["price_data"]["product_data"] == {
        "name": "Add-on: 90/10 split"
    }
    assert logged["params"]["payment_intent_data"] == {"metadata": {"order_id": "42"}}

    again = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent", "line_items"]}
    )
    assert again.payment_intent is None
    items = again.line_items.data
    assert [(i.description, i.quantity, i.amount_total) for i in items] == [
        ("100K Two-Step Challenge", 1, 15500),
        ("Add-on: 90/10 split", 2, 5000),
    ]
    assert items[0].price.unit_amount == 15500 and items[0].price.type == "one_time"
    listed = client.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert len(listed.data) == 1 and listed.has_more


def test_list_sessions_newest_first_with_paging_and_filters(client: stripe.StripeClient) -> None:
    ids = [client.v1.checkout.sessions.create(params=session_params()).id for _ in range(3)]
    page = client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in page.data] == [ids[2], ids[1]] and page.has_more
    assert page.url == "/v1/checkout/sessions"
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": ids[1]})
    assert [s.id for s in rest.data] == [ids[0]] and not rest.has_more
    assert [s.id for s in page.auto_paging_iter()] == ids[::-1]
    assert client.v1.checkout.sessions.list(params={"status": "complete"}).data == []


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"line_items": None}, "line_items"),
        ({"mode": "subscription"}, "mode"),
        ({"bogus": "1"}, "bogus"),
        ({"expires_at": int(time.time()) + 600}, "expires_at"),
        ({"expires_at": int(time.time()) + 3 * 86400}, "expires_at"),
        ({"discounts": [{"coupon": "NOPE"}]}, "discounts[0][coupon]"),
        (
            {"line_items": [{"price_data": {"currency": "usd", "unit_amount": "x"}}]},
            "line_items[0][quantity]",
        ),
        (
            {"line_items": [{"price_data": {**PRICE, "unit_amount": "12.5"}, "quantity": 1}]},
            "line_items[0][price_data][unit_amount]",
        ),
    ],
)
def test_invalid_parameters_raise_with_the_param(
    client: stripe.StripeClient, overrides: dict[str, object], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=session_params(**overrides))
    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert caught.value.error is not None and caught.value.error.type == "invalid_request_error"


async def test_coupon_discount(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    await sim.control.add_coupon("LAUNCH10", percent_off=10)
    session = client.v1.checkout.sessions.create(
        params=session_params(discounts=[{"coupon": "LAUNCH10"}])
    )
    assert (session.amount_subtotal, session.amount_total) == (15500, 13950)
    assert session.total_details.amount_discount == 1550
    assert session.discounts[0].coupon == "LAUNCH10"


async def test_paid_session_has_a_succeeded_intent_and_charge(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    created = client.v1.checkout.sessions.create(params=session_params())
    paid = await sim.control.pay(created.id)
    assert (paid["status"], paid["payment_status"], paid["url"]) == ("complete", "paid", None)

    session = client.v1.checkout.sessions.retrieve(
        created.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    assert session.customer_details.email == "trader@example.com"
    intent = session.payment_intent
    assert isinstance(intent, stripe.PaymentIntent) and intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 15500, 15500)
    assert intent.metadata.to_dict() == {"order_id": "42"}
    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge) and charge.id.startswith("ch_")
    assert (charge.status, charge.paid, charge.amount_refunded, charge.refunded) == (
        "succeeded", True, 0, False,
    )  # fmt: skip
    assert client.v1.payment_intents.retrieve(intent.id).latest_charge == charge.id
    listed = client.v1.checkout.sessions.list(params={"payment_intent": intent.id})
    assert [s.id for s in listed.data] == [created.id]
    # A completed session cannot be paid again.
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await sim.control.pay(created.id)
    assert caught.value.response.json()["error"]["code"] == "checkout_session_not_open"


async def test_decline_keeps_the_session_open_then_a_retry_pays(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    created = client.v1.checkout.sessions.create(params=session_params())
    declined = await sim.control.pay(created.id, "declined")
    assert declined["status"] == "open" and declined["payment_status"] == "unpaid"
    intent = client.v1.payment_intents.retrieve(declined["payment_intent"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "card_declined"
    assert client.v1.charges.retrieve(intent.latest_charge).status == "failed"

    paid = await sim.control.pay(created.id)
    assert paid["payment_intent"] == intent.id and paid["payment_status"] == "paid"
    hooked.wait_for(3)
    assert hooked.types() == [
        "payment_intent.payment_failed",
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]


@pytest.mark.parametrize(
    ("outcome", "final", "status", "events"),
    [
        ("async_succeeded", "paid", "succeeded",
         ["checkout.session.async_payment_succeeded", "payment_intent.succeeded"]),
        ("async_failed", "unpaid", "requires_payment_method",
         ["checkout.session.async_payment_failed", "payment_intent.payment_failed"]),
    ],
)  # fmt: skip
async def test_async_payment_completes_unpaid_then_settles(
    sim: RunningSimulator,
    client: stripe.StripeClient,
    hooked: Receiver,
    outcome: str,
    final: str,
    status: str,
    events: list[str],
) -> None:
    created = client.v1.checkout.sessions.create(params=session_params())
    pending = await sim.control.pay(created.id, outcome, settle=False)
    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(pending["payment_intent"]).status == "processing"
    first = hooked.wait_for(1)[0].event(sim.webhook_secret)
    assert first.type == "checkout.session.completed"
    assert first.data.object.payment_status == "unpaid"

    settled = await sim.control.settle(created.id)
    assert settled["payment_status"] == final
    assert client.v1.payment_intents.retrieve(settled["payment_intent"]).status == status
    received = [r.event(sim.webhook_secret) for r in hooked.wait_for(3)]
    assert [e.type for e in received[1:]] == events


async def test_hosted_page_pays_through_its_form(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    async with httpx.AsyncClient() as browser:
        page = await browser.get(session.url)
        assert page.status_code == 200 and "100K Two-Step Challenge" in page.text
        assert "155.00 USD" in page.text
        form = re.search(r"<form id='pay' method='post' action='([^']+)'>(.*?)</form>", page.text)
        assert form is not None
        fields = dict(re.findall(r"name='(\w+)' value='(\w+)'", form.group(2)))
        answer = await browser.post(httpx.URL(session.url).join(form.group(1)), data=fields)
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"https://crm.example/checkout/success?session_id={session.id}"
    )
    event = hooked.wait_for(1)[0].event(sim.webhook_secret)
    assert event.type == "checkout.session.completed"
    assert event.data.object.id == session.id and event.data.object.payment_status == "paid"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


async def test_hosted_page_cancel_redirects_and_leaves_the_session_open(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(f"{session.url}/cancel")
        declined = await browser.post(f"{session.url}/pay", data={"outcome": "declined"})
        missing = await browser.get(f"{sim.url}/checkout/cs_test_nope")
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://crm.example/checkout/cancel"
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    assert missing.status_code == 404
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


async def test_expire_through_the_api(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = hooked.wait_for(1)[0].event(sim.webhook_secret)
    assert event.type == "checkout.session.expired" and event.data.object.id == session.id
    assert event.request.id == expired.last_response.request_id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.expire(session.id)
    assert caught.value.code == "checkout_session_not_open"
    with pytest.raises(httpx.HTTPStatusError):
        await sim.control.pay(session.id)


async def test_sessions_expire_at_expires_at(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    soon = client.v1.checkout.sessions.create(
        params=session_params(expires_at=int(time.time()) + 1800)
    )
    later = client.v1.checkout.sessions.create(params=session_params())
    await sim.control.advance_clock(1801)
    assert client.v1.checkout.sessions.retrieve(soon.id).status == "expired"
    assert client.v1.checkout.sessions.retrieve(later.id).status == "open"
    event = hooked.wait_for(1)[0].event(sim.webhook_secret)
    assert event.type == "checkout.session.expired" and event.request.id is None
    expired = await sim.control.expire(later.id)
    assert expired["status"] == "expired"
