"""The webhook sender: Stripe's signature scheme (the §4.3 vector, and the SDK accepting every
delivery), stale and forged deliveries rejected by the SDK, duplicates, held and shuffled
delivery, retries until a 2xx, redelivery, endpoint filters and the delivery log."""

from __future__ import annotations

import json
import time

import stripe
from stripe_simkit import Receiver, session_params

from propdesk_psp_stripe.simulator import RunningSimulator, signature_header

VECTOR = "14c4f43763339dcb1c15f41a1ff31a94f2f09f8de278f8b4392ca0d7cbcd257e"


def _session(client: stripe.StripeClient) -> str:
    """An open session's id (paying it gives two events; expiring it, one)."""
    return client.v1.checkout.sessions.create(params=session_params()).id


def test_signature_vector() -> None:
    header = signature_header('{"id":"evt_test"}', "whsec_test", 1700000000)
    assert header == f"t=1700000000,v1={VECTOR}"
    generated = stripe.WebhookSignature.generate_signature_header(
        '{"id":"evt_test"}', "whsec_test", timestamp=1700000000
    )
    assert generated == header
    # The SDK accepts it when the time check is off (the vector is from 2023).
    assert stripe.WebhookSignature.verify_header('{"id":"evt_test"}', header, "whsec_test", 0)


async def test_events_arrive_signed_and_the_sdk_accepts_them(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    session_id = _session(client)
    await sim.control.pay(session_id)
    received = hooked.wait_for(2)
    events = [r.event(sim.webhook_secret) for r in received]
    assert [e.type for e in events] == ["checkout.session.completed", "payment_intent.succeeded"]
    completed = events[0]
    assert completed.id.startswith("evt_") and completed.object == "event"
    assert completed.api_version == "2026-10-28.endive" and completed.livemode is False
    assert completed.data.object.id == session_id
    assert completed.data.object.payment_status == "paid"
    assert completed.data.object.metadata.to_dict() == {"order_id": "42"}
    assert completed.request.id is None and completed.pending_webhooks == 1
    first = received[0]
    assert first.path == "/stripe/webhook"
    assert first.headers["content-type"].startswith("application/json")
    timestamp = int(first.signature.split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 5
    # The body is Stripe's pretty-printed JSON: only the raw bytes verify.
    assert first.body.startswith(b"{\n  ")
    compact = json.dumps(first.json(), separators=(",", ":"))
    try:
        stripe.Webhook.construct_event(compact, first.signature, sim.webhook_secret)
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("a re-serialized body must not verify")
    # Delivered: the event no longer waits for webhooks.
    await sim.control.wait_idle()
    assert client.v1.events.retrieve(completed.id).pending_webhooks == 0


async def test_endpoint_secret_and_event_filter(
    sim: RunningSimulator, client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = await sim.control.add_endpoint(
        receiver.url, "whsec_own_secret", ["payment_intent.*"]
    )
    assert endpoint["id"].startswith("we_") and endpoint["secret"] == "whsec_own_secret"
    await sim.control.pay(_session(client))
    event = receiver.wait_for(1)[0].event("whsec_own_secret")
    assert event.type == "payment_intent.succeeded"
    assert [r.json()["type"] for r in receiver.quiet_for(0.2)] == ["payment_intent.succeeded"]


async def test_stale_deliveries_fail_the_sdks_tolerance(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    await sim.control.set_webhook_mode(stale=True, count=1)
    await sim.control.pay(_session(client))
    stale, fresh = hooked.wait_for(2)
    timestamp = int(stale.signature.split(",")[0].removeprefix("t="))
    assert time.time() - timestamp > 300
    try:
        stale.event(sim.webhook_secret)
    except stripe.SignatureVerificationError as error:
        assert "tolerance" in str(error)
    else:
        raise AssertionError("a stale delivery must be refused")
    # The signature itself is right: only its age is wrong.
    assert stale.event(sim.webhook_secret, tolerance=0).type == "checkout.session.completed"
    # count=1: the next event is back to normal.
    assert fresh.event(sim.webhook_secret).type == "payment_intent.succeeded"
    await sim.control.wait_idle()  # the log has an attempt once its answer is in
    log = await sim.control.deliveries()
    assert [entry["stale"] for entry in log] == [True, False]


async def test_bad_signatures_fail_verification(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    await sim.control.set_webhook_mode(bad_signature=True)
    await sim.control.pay(_session(client))
    for delivery in hooked.wait_for(2):
        assert delivery.signature.startswith("t=") and ",v1=" in delivery.signature
        try:
            delivery.event(sim.webhook_secret, tolerance=0)
        except stripe.SignatureVerificationError as error:
            assert "No signatures found matching" in str(error)
        else:
            raise AssertionError("a forged delivery must be refused")
    assert (await sim.control.webhook_mode())["bad_signature"] is True


async def test_duplicates_deliver_each_event_n_times(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    await sim.control.set_webhook_mode(duplicates=3)
    await sim.control.pay(_session(client))
    received = hooked.wait_for(6)
    ids = [r.event(sim.webhook_secret).id for r in received]
    assert len(set(ids)) == 2 and all(ids.count(i) == 3 for i in ids)
    assert received[0].body == received[1].body == received[2].body
    assert len(hooked.quiet_for(0.2)) == 6
    await sim.control.wait_idle()
    log = await sim.control.deliveries(event=ids[0])
    assert sorted(entry["copy"] for entry in log) == [1, 2, 3]


async def test_shuffle_holds_events_until_released_out_of_order(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    await sim.control.set_webhook_mode(shuffle=True)
    for _ in range(3):
        await sim.control.pay(_session(client))
    emitted = [e.id for e in client.v1.events.list(params={"limit": 100}).data][::-1]
    assert len(emitted) == 6
    assert hooked.quiet_for(0.2) == []
    assert (await sim.control.webhooks_pending())["held"] == 6

    released = await sim.control.release()
    assert sorted(released) == sorted(emitted) and released != emitted
    arrived = [r.event(sim.webhook_secret).id for r in hooked.wait_for(6)]
    assert arrived == released


async def test_retries_until_a_2xx(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    hooked.script = [500, 500]
    await sim.control.set_webhook_mode(count=1)
    client.v1.checkout.sessions.expire(_session(client))
    received = hooked.wait_for(3)
    assert [r.status for r in received] == [500, 500, 200]
    assert len({r.body for r in received}) == 1
    # The schedule: 0.05 s, then 0.1 s.
    assert received[1].at - received[0].at >= 0.04
    assert received[2].at - received[1].at >= 0.09
    await sim.control.wait_idle()
    log = await sim.control.deliveries()
    assert [(e["attempt"], e["status"], e["succeeded"]) for e in log] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    event_id = received[0].json()["id"]
    assert client.v1.events.retrieve(event_id).pending_webhooks == 0
    assert len(hooked.quiet_for(0.3)) == 3


async def test_retries_stop_after_the_last_attempt(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    hooked.script = [503] * 10
    client.v1.checkout.sessions.expire(_session(client))
    hooked.wait_for(4)
    await sim.control.wait_idle()
    assert len(hooked.quiet_for(0.4)) == 4  # 1 + the 3 retries the fixture configures
    event_id = hooked.received[0].json()["id"]
    assert client.v1.events.retrieve(event_id).pending_webhooks == 1
    failed = client.v1.events.list(params={"delivery_success": "false"})
    assert [e.id for e in failed.data] == [event_id]


async def test_unreachable_endpoints_are_logged_and_retried(
    sim: RunningSimulator, client: stripe.StripeClient, receiver: Receiver
) -> None:
    url = receiver.url
    receiver.close()
    await sim.control.add_endpoint(url)
    client.v1.checkout.sessions.expire(_session(client))
    await sim.control.wait_idle()
    log = await sim.control.deliveries()
    assert [entry["attempt"] for entry in log] == [1, 2, 3, 4]
    assert all(entry["status"] is None and entry["error"] for entry in log)


async def test_redeliver_a_past_event(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    client.v1.checkout.sessions.expire(_session(client))
    original = hooked.wait_for(1)[0]
    event_id = original.json()["id"]
    assert await sim.control.redeliver(event_id, duplicates=2) == 2
    again = hooked.wait_for(3)[1:]
    assert [r.body for r in again] == [original.body, original.body]
    assert again[0].event(sim.webhook_secret).id == event_id
    assert await sim.control.redeliver(event_id, bad_signature=True) == 1
    forged = hooked.wait_for(4)[3]
    try:
        forged.event(sim.webhook_secret)
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("the redelivery was asked with a wrong signature")


async def test_reset_drops_deliveries_under_way(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver
) -> None:
    await sim.control.set_webhook_mode(retry_delays=[0.3])
    hooked.script = [500]
    client.v1.checkout.sessions.expire(_session(client))
    hooked.wait_for(1)
    await sim.control.reset()
    assert len(hooked.quiet_for(0.5)) == 1
    assert await sim.control.endpoints() == []
    assert await sim.control.deliveries() == []
