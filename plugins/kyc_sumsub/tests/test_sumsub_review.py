"""Review outcomes driven through the control API, seen by the client and in webhooks."""

from __future__ import annotations

import httpx
import pytest
from sumsubkit import LEVEL, WEBHOOK_SECRET, Receiver

from propdesk_kyc_sumsub import Conflict, SumsubClient, verify_webhook
from propdesk_kyc_sumsub.simulator import RunningSimulator


async def _pending(sim: RunningSimulator, client: SumsubClient, user: str = "crm-1") -> str:
    made = await client.create_applicant(user, LEVEL)
    await sim.control.submit(made.id)
    assert (await client.status(made.id)).review_status == "pending"
    return made.id


async def _reviewed(sim: RunningSimulator) -> list[dict]:
    return [e for e in await sim.control.events() if e["type"] == "applicantReviewed"]


async def test_green(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant_id = await _pending(sim, client)
    await sim.control.review(applicant_id, "GREEN")
    applicant = await client.applicant(applicant_id)
    assert (applicant.review_status, applicant.review_answer) == ("completed", "GREEN")
    assert applicant.reject_type is None and applicant.reject_labels == ()
    (event,) = await _reviewed(sim)
    assert event["reviewResult"] == {"reviewAnswer": "GREEN"}
    assert event["reviewStatus"] == "completed"


async def test_red_retry_then_resubmission(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant_id = await _pending(sim, client)
    await sim.control.review(
        applicant_id,
        "RED",
        reject_type="RETRY",
        labels=["UNSATISFACTORY_PHOTOS", "SCREENSHOTS"],
        moderation_comment="Please upload a sharper photo.",
    )
    status = await client.status(applicant_id)
    assert (status.review_answer, status.reject_type) == ("RED", "RETRY")
    assert status.reject_labels == ("UNSATISFACTORY_PHOTOS", "SCREENSHOTS")
    assert status.moderation_comment == "Please upload a sharper photo."
    (event,) = await _reviewed(sim)
    assert event["reviewResult"]["reviewRejectType"] == "RETRY"
    assert event["reviewResult"]["rejectLabels"] == ["UNSATISFACTORY_PHOTOS", "SCREENSHOTS"]
    # RETRY: the applicant may try again, which starts a new attempt.
    await client.request_check(applicant_id, "resubmitted")
    status = await client.status(applicant_id)
    assert (status.review_status, status.attempt_cnt, status.review_answer) == ("pending", 2, None)
    await sim.control.review(applicant_id, "GREEN")
    assert (await client.status(applicant_id)).review_answer == "GREEN"


async def test_red_final(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant_id = await _pending(sim, client)
    await sim.control.review(applicant_id, "RED", reject_type="FINAL", labels=["FORGERY"])
    applicant = await client.applicant(applicant_id)
    assert (applicant.review_answer, applicant.reject_type) == ("RED", "FINAL")
    assert applicant.reject_labels == ("FORGERY",)
    with pytest.raises(Conflict) as final:
        await client.request_check(applicant_id)
    assert (final.value.error_code, final.value.error_name) == (
        1009,
        "applicant-with-final-reject",
    )
    assert (await client.status(applicant_id)).reject_type == "FINAL"


async def test_green_then_later_red(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET, types=["applicantReviewed"])
    applicant_id = await _pending(sim, client)
    await sim.control.review(applicant_id, "GREEN")
    assert (await client.status(applicant_id)).review_answer == "GREEN"
    await sim.control.advance_clock(86400)  # revoked a day later
    await sim.control.review(
        applicant_id, "RED", reject_type="FINAL", labels=["BLACKLIST"], client_comment="Sanctions"
    )
    status = await client.status(applicant_id)
    assert (status.review_answer, status.reject_type) == ("RED", "FINAL")
    assert status.client_comment == "Sanctions"
    got = await receiver.wait_for(2)
    events = [verify_webhook(r.body, r.headers, WEBHOOK_SECRET) for r in got]
    assert [(e.review_answer, e.reject_type) for e in events] == [("GREEN", None), ("RED", "FINAL")]
    assert events[1].created_at and events[0].created_at
    assert (events[1].created_at - events[0].created_at).total_seconds() >= 86400


async def test_reset_applicant(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant_id = await _pending(sim, client)
    await sim.control.review(applicant_id, "RED", reject_type="RETRY")
    await sim.control.reset_applicant(applicant_id)
    status = await client.status(applicant_id)
    assert (status.review_status, status.review_answer, status.attempt_cnt) == ("init", None, 2)
    with pytest.raises(Conflict):  # documents dropped by the reset
        await client.request_check(applicant_id)
    assert (await sim.control.events())[-1]["type"] == "applicantReset"


async def test_control_refuses_bad_reviews(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant_id = await _pending(sim, client)
    with pytest.raises(httpx.HTTPStatusError) as bad:
        await sim.control.review(applicant_id, "YELLOW")
    assert bad.value.response.status_code == 400
    with pytest.raises(httpx.HTTPStatusError) as bad:
        await sim.control.review(applicant_id, "RED", reject_type="MAYBE")
    assert bad.value.response.status_code == 400
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await sim.control.review("0" * 24, "GREEN")
    assert missing.value.response.status_code == 404
    assert (await client.status(applicant_id)).review_status == "pending"
