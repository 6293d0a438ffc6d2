"""The wire basics: API keys, the Idempotency-Key store, Stripe's error bodies as the SDK's
exceptions, injected faults, the request log, the async SDK, and the form decoder."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import stripe
from stripe_simkit import session_params

from propdesk_psp_stripe.simulator import RunningSimulator
from propdesk_psp_stripe.simulator.errors import StripeError
from propdesk_psp_stripe.simulator.forms import parse_form


def test_idempotent_replay(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "checkout:42"}
    first = client.v1.checkout.sessions.create(params=session_params(), options=options)
    again = client.v1.checkout.sessions.create(params=session_params(), options=options)
    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert first.last_response is not None and again.last_response is not None
    assert "idempotent-replayed" not in first.last_response.headers
    assert again.last_response.headers["idempotent-replayed"] == "true"
    assert again.last_response.headers["original-request"] == first.last_response.request_id
    assert again.last_response.request_id != first.last_response.request_id
    assert len(client.v1.checkout.sessions.list().data) == 1
    replayed = [r["replayed"] for r in sim.simulator.requests if r["method"] == "POST"]
    assert replayed == [False, True]


def test_same_key_other_parameters_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "checkout:43"}
    client.v1.checkout.sessions.create(params=session_params(), options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="order-44"), options=options
        )
    assert caught.value.http_status == 400
    assert caught.value.error is not None and caught.value.error.type == "idempotency_error"


def test_failed_validation_is_not_kept_under_the_key(client: stripe.StripeClient) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "checkout:45"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=session_params(mode="setup"), options=options)
    # The key is free: the corrected request runs (no idempotency_error).
    session = client.v1.checkout.sessions.create(params=session_params(), options=options)
    assert session.status == "open"


async def test_concurrent_requests_with_one_key_get_409(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    await sim.control.pay(session.id)
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    await sim.control.add_fault("/v1/refunds", delay=0.4)
    idempotency = sim.simulator.idempotency
    headers = {"Authorization": f"Bearer {sim.secret_key}", "Idempotency-Key": "refund:1"}
    async with httpx.AsyncClient(base_url=sim.url, headers=headers) as http:
        slow = asyncio.create_task(http.post("/v1/refunds", data={"payment_intent": intent}))
        for _ in range(500):  # until the first request holds the key
            if idempotency.state(sim.secret_key, "refund:1") == "in_flight":
                break
            await asyncio.sleep(0.01)
        fast = await http.post("/v1/refunds", data={"payment_intent": intent})
        first = await slow
        replay = await http.post("/v1/refunds", data={"payment_intent": intent})
    assert first.status_code == 200
    assert fast.status_code == 409
    assert fast.json()["error"]["code"] == "idempotency_key_in_use"
    assert fast.headers["stripe-should-retry"] == "true"
    assert replay.status_code == 200 and replay.content == first.content
    assert len(client.v1.refunds.list().data) == 1


def test_authentication(sim: RunningSimulator) -> None:
    wrong = stripe.StripeClient("sk_test_wrong_key_1234", base_addresses=sim.base_addresses)
    with pytest.raises(stripe.AuthenticationError) as caught:
        wrong.v1.checkout.sessions.list()
    assert caught.value.http_status == 401
    assert "Invalid API Key provided: sk_test_****1234" in str(caught.value)
    with httpx.Client(base_url=sim.url) as http:
        anonymous = http.get("/v1/events")
        basic = http.get("/v1/events", auth=(sim.secret_key, ""))
    assert anonymous.status_code == 401
    assert set(anonymous.json()["error"]) >= {"type", "code", "message", "param"}
    assert anonymous.headers["request-id"].startswith("req_")
    assert basic.status_code == 200 and basic.json()["object"] == "list"


def test_missing_objects_and_unknown_urls(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert "No such checkout.session: 'cs_test_missing'" in str(caught.value)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.retrieve("re_missing")
    assert caught.value.code == "resource_missing"
    with httpx.Client(base_url=sim.url, auth=(sim.secret_key, "")) as http:
        unknown = http.get("/v1/customers")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL (GET: ")
    session = client.v1.checkout.sessions.create(params=session_params())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["bogus"]})
    assert (caught.value.http_status, caught.value.param) == (400, "expand[0]")


async def test_rate_limit_and_server_errors(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    await sim.control.add_fault("/v1/checkout/sessions", status=429, method="GET")
    with pytest.raises(stripe.RateLimitError) as limited:
        client.v1.checkout.sessions.list()
    assert limited.value.http_status == 429
    assert client.v1.checkout.sessions.list().data == []  # the fault was for one request

    await sim.control.add_fault("/v1/checkout/sessions", status=500, method="POST")
    options: stripe.RequestOptions = {"idempotency_key": "checkout:500"}
    with pytest.raises(stripe.APIError) as failed:
        client.v1.checkout.sessions.create(params=session_params(), options=options)
    assert failed.value.http_status == 500
    # Stripe keeps a 500 under its key: the replay is the same 500.
    with pytest.raises(stripe.APIError) as replayed:
        client.v1.checkout.sessions.create(params=session_params(), options=options)
    assert replayed.value.headers is not None
    assert replayed.value.headers["idempotent-replayed"] == "true"


async def test_request_log(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    await sim.control.clear_requests()
    client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "checkout:log"}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": "ch_missing"})
    log = await sim.control.requests()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v1/checkout/sessions", 200),
        ("POST", "/v1/refunds", 404),
    ]
    assert log[0]["idempotency_key"] == "checkout:log" and log[0]["id"].startswith("req_")
    assert log[0]["params"]["metadata"] == {"order_id": "42"}
    assert log[1]["error"]["code"] == "resource_missing"
    assert log[1]["idempotency_key"]  # the SDK sends a key with every POST
    assert await sim.control.requests(path="/v1/refunds") == log[1:]


# The SDK's HTTPXClient posts bytes with httpx's deprecated ``data=``.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
async def test_async_sdk(sim: RunningSimulator) -> None:
    client = sim.stripe_client(http_client=stripe.HTTPXClient())
    session = await client.v1.checkout.sessions.create_async(params=session_params())
    await sim.control.pay(session.id)
    paid = await client.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert paid.payment_status == "paid" and paid.payment_intent.status == "succeeded"
    refund = await client.v1.refunds.create_async(
        params={"payment_intent": paid.payment_intent.id, "amount": 500}
    )
    assert (refund.status, refund.amount) == ("succeeded", 500)
    events = await client.v1.events.list_async(params={"types": ["refund.created"]})
    assert [e.data.object.id for e in events.data] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await client.v1.refunds.create_async(params={"payment_intent": paid.payment_intent.id,
                                                     "amount": 20000})  # fmt: skip
    assert caught.value.param == "amount"


def test_form_decoding() -> None:
    raw = (
        "line_items[0][price_data][unit_amount]=15500&line_items[0][quantity]=1"
        "&metadata[order_id]=42&metadata[0]=zero&expand[]=a&expand[]=b"
        "&note=a%26b%3Dc+d&line_items[1][quantity]=2"
    )
    assert parse_form(raw) == {
        "line_items": {
            "0": {"price_data": {"unit_amount": "15500"}, "quantity": "1"},
            "1": {"quantity": "2"},
        },
        "metadata": {"order_id": "42", "0": "zero"},
        "expand": {"0": "a", "1": "b"},
        "note": "a&b=c d",
    }
    for bad in ("a[b]c=1", "[x]=1", "a=1&a[b]=2", "a[b]=1&a=2"):
        with pytest.raises(StripeError):
            parse_form(bad)
