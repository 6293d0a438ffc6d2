"""The Sumsub KYC provider against the simulator: one applicant per trader, verdicts read back
as the core's statuses (a later rejection revokes an approval), webhooks verified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from propdesk.errors import WebhookRejected
from propdesk.kyc.contract import KycProvider, KycSubject
from propdesk_kyc_sumsub.adapter import SumsubKyc
from propdesk_kyc_sumsub.simulator import RunningSimulator
from propdesk_kyc_sumsub.webhooks import sign_webhook

ENV = {
    "app_token": "T_SUMSUB_TOKEN",
    "secret_key": "T_SUMSUB_SECRET",
    "webhook_secret": "T_SUMSUB_HOOK",
}
ANA = KycSubject("trader:7", "ana@traders.example", "Ana", "Trader", "DE")


@pytest.fixture
async def kyc(sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SumsubKyc]:
    monkeypatch.setenv(ENV["app_token"], sim.app_token)
    monkeypatch.setenv(ENV["secret_key"], sim.secret_key)
    monkeypatch.setenv(ENV["webhook_secret"], sim.webhook_secret)
    made = SumsubKyc(
        {
            "base_url": sim.url,
            **{name: {"env": env} for name, env in ENV.items()},
            "websdk_url": f"{sim.url}/websdk?accessToken={{token}}",
        }
    )
    yield made
    await made.close()


async def test_verification_starts_once_per_trader_and_reads_back_every_verdict(
    sim: RunningSimulator, kyc: SumsubKyc
) -> None:
    assert isinstance(kyc, KycProvider)
    assert (await kyc.check(ANA.external_id)).status == "not_started"
    first = await kyc.start(ANA)
    again = await kyc.start(ANA)
    assert again.applicant_reference == first.applicant_reference
    assert (
        first.access_token != again.access_token and first.url and first.access_token in first.url
    )
    assert (await kyc.check(ANA.external_id)).status == "not_started"  # nothing submitted
    await sim.control.submit(first.applicant_reference)
    assert (await kyc.check(ANA.external_id)).status == "pending"
    await sim.control.review(
        first.applicant_reference,
        "RED",
        reject_type="RETRY",
        labels=["UNSATISFACTORY_PHOTOS"],
        moderation_comment="The photo of your ID is blurred.",
    )
    retry = await kyc.check(ANA.external_id)
    assert (retry.status, retry.reason, retry.labels) == (
        "rejected_retry",
        "The photo of your ID is blurred.",
        ("UNSATISFACTORY_PHOTOS",),
    )
    await sim.control.review(first.applicant_reference, "GREEN")
    assert (await kyc.check(ANA.external_id)).status == "approved"
    await sim.control.review(
        first.applicant_reference, "RED", reject_type="FINAL", labels=["FORGERY"]
    )
    revoked = await kyc.check(ANA.external_id)
    assert (revoked.status, revoked.labels) == ("rejected_final", ("FORGERY",))


async def test_a_webhook_verifies_over_the_raw_body_or_is_rejected(
    sim: RunningSimulator, kyc: SumsubKyc
) -> None:
    body = (
        b'{"applicantId":"5cb56e8e0a975a35f333cb83","externalUserId":"trader:7",'
        b'"type":"applicantReviewed","reviewStatus":"completed","correlationId":"req-1",'
        b'"createdAtMs":"2026-11-21 10:00:00.000","reviewResult":{"reviewAnswer":"GREEN"}}'
    )
    now = datetime.now(UTC)
    digest = sign_webhook(body, sim.webhook_secret, "HMAC_SHA256_HEX")
    headers = {"X-Payload-Digest": digest, "X-Payload-Digest-Alg": "HMAC_SHA256_HEX"}
    event = kyc.parse_webhook(body, headers, now=now)
    assert (event.event_id, event.external_id, event.provider_type) == (
        "req-1",
        "trader:7",
        "applicantReviewed",
    )
    with pytest.raises(WebhookRejected):
        kyc.parse_webhook(body + b" ", headers, now=now)
    sha1 = {
        "X-Payload-Digest": sign_webhook(body, sim.webhook_secret, "HMAC_SHA1_HEX"),
        "X-Payload-Digest-Alg": "HMAC_SHA1_HEX",
    }
    with pytest.raises(WebhookRejected):  # SHA-1 only when the desk allows it
        kyc.parse_webhook(body, sha1, now=now)
