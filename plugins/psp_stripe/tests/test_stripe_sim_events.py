"""``GET /v1/events``: newest first, cursor pagination, ``type``/``types[]``/``created``
filters; ``GET /v1/events/{id}``."""

from __future__ import annotations

import pytest
import stripe
from stripe_simkit import session_params

from propdesk_psp_stripe.simulator import RunningSimulator


async def _history(sim: RunningSimulator, client: stripe.StripeClient) -> list[str]:
    """Ten events; their types oldest first."""
    for _ in range(3):
        session = client.v1.checkout.sessions.create(params=session_params())
        await sim.control.pay(session.id)
    intent = client.v1.checkout.sessions.list(params={"limit": 1}).data[0].payment_intent
    client.v1.refunds.create(params={"payment_intent": intent, "amount": 100})
    expired = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(expired.id)
    return ["checkout.session.completed", "payment_intent.succeeded"] * 3 + [
        "refund.created", "charge.refunded", "refund.updated", "checkout.session.expired",
    ]  # fmt: skip


async def test_cursor_pagination(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    types = await _history(sim, client)
    first = client.v1.events.list(params={"limit": 4})
    assert [e.type for e in first.data] == types[::-1][:4]
    assert first.has_more and first.url == "/v1/events"
    seen, page = [e.id for e in first.data], first
    while page.has_more:
        page = client.v1.events.list(params={"limit": 4, "starting_after": page.data[-1].id})
        seen += [e.id for e in page.data]
    assert len(seen) == len(set(seen)) == len(types) == 10
    assert [e.id for e in first.auto_paging_iter()] == seen
    newer = client.v1.events.list(params={"limit": 2, "ending_before": seen[5]})
    assert [e.id for e in newer.data] == seen[3:5] and newer.has_more
    for bad in ({"limit": 0}, {"limit": 101}):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.events.list(params=bad)
        assert caught.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"starting_after": "evt_missing"})
    assert caught.value.param == "starting_after"


async def test_filters(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    await _history(sim, client)
    completed = client.v1.events.list(params={"type": "checkout.session.completed"})
    assert [e.type for e in completed.data] == ["checkout.session.completed"] * 3
    wildcard = client.v1.events.list(params={"type": "checkout.session.*", "limit": 100})
    assert len(wildcard.data) == 4
    several = client.v1.events.list(params={"types": ["refund.created", "refund.updated"]})
    assert [e.type for e in several.data] == ["refund.updated", "refund.created"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list(params={"type": "refund.created", "types": ["refund.updated"]})

    await sim.control.advance_clock(100)
    since = (await sim.control.health())["time"]
    late = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(late.id)
    recent = client.v1.events.list(params={"created": {"gte": since}})
    assert [e.data.object.id for e in recent.data] == [late.id]
    older = client.v1.events.list(params={"created": {"lt": since}, "limit": 100})
    assert len(older.data) == 10


async def test_retrieve_an_event(sim: RunningSimulator, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    await sim.control.pay(session.id)
    listed = client.v1.events.list(params={"limit": 1}).data[0]
    event = client.v1.events.retrieve(listed.id)
    assert event.to_dict() == listed.to_dict()
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.object == "payment_intent"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.retrieve("evt_missing")
    assert caught.value.http_status == 404
