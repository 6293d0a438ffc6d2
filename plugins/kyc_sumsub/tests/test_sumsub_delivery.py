"""Webhooks from the simulator to a local receiver, checked with ``verify_webhook``: signing
and algorithms, duplicates, reordering, corrupted digests and retries until a 2xx."""

from __future__ import annotations

import asyncio
import json
import random
import re

import pytest
from sumsubkit import LEVEL, WEBHOOK_SECRET, Receiver

from propdesk_kyc_sumsub import InvalidWebhook, SumsubClient, verify_webhook
from propdesk_kyc_sumsub.simulator import RunningSimulator

FAST = [0.05, 0.05, 0.05, 0.05]
WITH_SHA1 = {"HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"}


def verifying(receiver: Receiver, reasons: list[str], **options: object) -> None:
    """The receiver answers as a real one: 200 when the webhook verifies, else 401."""

    def check(body: bytes, headers: dict[str, str]) -> int:
        try:
            verify_webhook(body, headers, WEBHOOK_SECRET, **options)  # type: ignore[arg-type]
        except InvalidWebhook as refused:
            reasons.append(refused.reason)
            return 401
        return 200

    receiver.check = check


async def _lifecycle(sim: RunningSimulator, client: SumsubClient, user: str = "crm-1") -> str:
    """Created, pending, reviewed GREEN: three events."""
    made = await client.create_applicant(user, LEVEL, email="ann@example.com", first_name="Ann")
    await sim.control.submit(made.id)
    await sim.control.review(made.id, "GREEN")
    return made.id


async def test_signed_with_sha256_by_default(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    applicant_id = await _lifecycle(sim, client)
    got = await receiver.wait_for(3)
    events = [verify_webhook(r.body, r.headers, WEBHOOK_SECRET) for r in got]
    assert [e.type for e in events] == ["applicantCreated", "applicantPending", "applicantReviewed"]
    assert {r.headers["x-payload-digest-alg"] for r in got} == {"HMAC_SHA256_HEX"}
    assert all(r.headers["content-type"] == "application/json" for r in got)
    assert all(e.applicant_id == applicant_id and e.external_user_id == "crm-1" for e in events)
    assert [e.review_status for e in events] == ["init", "pending", "completed"]
    assert events[2].review_answer == "GREEN" and events[0].review_answer is None
    assert len({e.correlation_id for e in events}) == 3
    for received in got:
        stamp = json.loads(received.body)["createdAtMs"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", stamp)
        # No personal data in webhooks.
        assert b"ann@example.com" not in received.body and b"Ann" not in received.body
    created = [e.created_at for e in events]
    assert all(c is not None for c in created) and created == sorted(created)  # type: ignore[type-var]


async def test_sha512_endpoint(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET, algorithm="HMAC_SHA512_HEX")
    await client.create_applicant("crm-1", LEVEL)
    (got,) = await receiver.wait_for(1)
    assert got.headers["x-payload-digest-alg"] == "HMAC_SHA512_HEX"
    assert len(got.headers["x-payload-digest"]) == 128
    assert verify_webhook(got.body, got.headers, WEBHOOK_SECRET).type == "applicantCreated"


async def test_sha1_endpoint_only_verifies_when_allowed(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET, algorithm="HMAC_SHA1_HEX")
    await client.create_applicant("crm-1", LEVEL)
    (got,) = await receiver.wait_for(1)
    assert got.headers["x-payload-digest-alg"] == "HMAC_SHA1_HEX"
    with pytest.raises(InvalidWebhook, match="not allowed"):
        verify_webhook(got.body, got.headers, WEBHOOK_SECRET)
    event = verify_webhook(got.body, got.headers, WEBHOOK_SECRET, allowed_algorithms=WITH_SHA1)
    assert event.type == "applicantCreated"


async def test_missing_algorithm_header(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET, algorithm="HMAC_SHA512_HEX")
    await sim.control.set_delivery_mode(omit_alg_header=True)
    await client.create_applicant("crm-1", LEVEL)
    sha256, sha512 = await receiver.wait_for(2)
    assert "x-payload-digest-alg" not in sha256.headers | sha512.headers
    assert verify_webhook(sha256.body, sha256.headers, WEBHOOK_SECRET).type == "applicantCreated"
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(sha512.body, sha512.headers, WEBHOOK_SECRET)
    assert verify_webhook(
        sha512.body, sha512.headers, WEBHOOK_SECRET, default_algorithm="HMAC_SHA512_HEX"
    )


async def test_bad_digest_is_refused_then_retried(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    reasons: list[str] = []
    verifying(receiver, reasons)
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(bad_digest=1, retry_delays=FAST)
    await client.create_applicant("crm-1", LEVEL)
    forged, genuine = await receiver.wait_for(2)
    assert (forged.status, genuine.status) == (401, 200)
    assert forged.body == genuine.body
    assert forged.headers["x-payload-digest"] != genuine.headers["x-payload-digest"]
    assert reasons == ["X-Payload-Digest does not match the body (HMAC_SHA256_HEX)"]
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "delivered"
    assert [(a["status"], a["bad_digest"]) for a in delivery["attempts"]] == [
        (401, True),
        (200, False),
    ]


async def test_unknown_algorithm_is_refused(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    reasons: list[str] = []
    verifying(receiver, reasons)
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(algorithm="HMAC_MD5_HEX", retry_delays=[])
    await client.create_applicant("crm-1", LEVEL)
    (got,) = await receiver.wait_for(1)
    assert got.headers["x-payload-digest-alg"] == "HMAC_MD5_HEX" and got.status == 401
    assert reasons == ["unknown digest algorithm 'HMAC_MD5_HEX'"]
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "failed"


async def test_duplicates(sim: RunningSimulator, client: SumsubClient, receiver: Receiver) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(duplicates=2)
    await client.create_applicant("crm-1", LEVEL)
    got = await receiver.wait_for(3)
    await asyncio.sleep(0.1)
    assert len(receiver.snapshot()) == 3
    assert len({r.body for r in got}) == 1
    events = [verify_webhook(r.body, r.headers, WEBHOOK_SECRET) for r in got]
    assert len({e.correlation_id for e in events}) == 1  # de-duplicate on it
    copies = sorted(d["copy"] for d in await sim.control.wait_deliveries())
    assert copies == [0, 1, 2]


async def test_hold_and_release_in_reverse(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(hold=True)
    await _lifecycle(sim, client)
    await asyncio.sleep(0.1)
    assert receiver.snapshot() == []
    assert len(await sim.control.deliveries("held")) == 3
    assert await sim.control.release("reverse") == 3
    got = await receiver.wait_for(3)
    events = [verify_webhook(r.body, r.headers, WEBHOOK_SECRET) for r in got]
    kinds = ["applicantCreated", "applicantPending", "applicantReviewed"]
    assert [e.type for e in events] == kinds[::-1]
    ordered = sorted(events, key=lambda e: e.created_at)  # type: ignore[arg-type, return-value]
    assert [e.type for e in ordered] == kinds


async def test_hold_and_shuffle(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(hold=True)
    for n in range(3):
        await _lifecycle(sim, client, f"crm-{n}")
    emitted = [e["correlationId"] for e in await sim.control.events()]
    assert await sim.control.release("shuffle", seed=11) == 9
    got = await receiver.wait_for(9)
    arrived = [json.loads(r.body)["correlationId"] for r in got]
    expected = list(emitted)
    random.Random(11).shuffle(expected)
    assert arrived == expected != emitted


async def test_retried_until_2xx(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(retry_delays=FAST)
    receiver.respond(500, 503, 404)
    await client.create_applicant("crm-1", LEVEL)
    got = await receiver.wait_for(4)
    assert [r.status for r in got] == [500, 503, 404, 200]
    assert len({r.body for r in got}) == 1
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 404, 200]


async def test_gives_up_after_the_schedule(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    await sim.control.set_delivery_mode(retry_delays=FAST)
    receiver.respond(*[500] * 6)
    await client.create_applicant("crm-1", LEVEL)
    await receiver.wait_for(5)
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == 5  # the first attempt and four retries


async def test_real_schedule_follows_the_clock(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    assert (await sim.control.delivery_mode())["retry_delays"] == [300, 3600, 18000, 64800]
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    receiver.respond(500, 500)
    await client.create_applicant("crm-1", LEVEL)
    await receiver.wait_for(1)
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "scheduled"
    assert delivery["next_attempt_at"] - delivery["attempts"][0]["at"] == pytest.approx(300, 1)
    await sim.control.advance_clock(250)
    await asyncio.sleep(0.1)
    assert len(receiver.snapshot()) == 1
    await sim.control.advance_clock(60)
    await receiver.wait_for(2)
    await sim.control.advance_clock(3600)
    got = await receiver.wait_for(3)
    assert [r.status for r in got] == [500, 500, 200]


async def test_unreachable_endpoint_is_retried(sim: RunningSimulator, client: SumsubClient) -> None:
    await sim.control.add_webhook("http://127.0.0.1:9/nothing", WEBHOOK_SECRET)
    await client.create_applicant("crm-1", LEVEL)
    (delivery,) = await sim.control.wait_deliveries()
    assert delivery["state"] == "scheduled"
    assert delivery["attempts"][0]["status"] is None and delivery["attempts"][0]["error"]


async def test_subscribed_types_only(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET, types=["applicantReviewed"])
    await _lifecycle(sim, client)
    (got,) = await receiver.wait_for(1)
    await sim.control.wait_deliveries()
    assert len(receiver.snapshot()) == 1
    assert verify_webhook(got.body, got.headers, WEBHOOK_SECRET).type == "applicantReviewed"
