"""``verify_webhook`` on its own: digests, algorithms, and the parsed event."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from propdesk_kyc_sumsub import InvalidWebhook, verify_webhook
from propdesk_kyc_sumsub.webhooks import sign_webhook

SECRET = "whk-secret"
PAYLOAD = {
    "applicantId": "5cb56e8e0a975a35f333cb83",
    "inspectionId": "5cb56e8e0a975a35f333cb84",
    "correlationId": "req-a260b669-4f14-4bb5-a4c5-ac0218acb9a4",
    "externalUserId": "crm-user-42",
    "levelName": "basic-kyc-level",
    "type": "applicantReviewed",
    "sandboxMode": False,
    "reviewStatus": "completed",
    "applicantType": "individual",
    "reviewResult": {
        "reviewAnswer": "RED",
        "rejectLabels": ["UNSATISFACTORY_PHOTOS"],
        "reviewRejectType": "RETRY",
        "moderationComment": "Please retake the photo.",
        "clientComment": "Blurry.",
    },
    "createdAtMs": "2024-05-14 16:00:25.032",
    "clientId": "propdesk",
}
# Spacing differs from json.dumps' on purpose: the digest is over these exact bytes.
BODY = json.dumps(PAYLOAD, indent=1).encode()
HASHES = {
    "HMAC_SHA1_HEX": hashlib.sha1,
    "HMAC_SHA256_HEX": hashlib.sha256,
    "HMAC_SHA512_HEX": hashlib.sha512,
}


def _headers(algorithm: str | None = "HMAC_SHA256_HEX", digest_alg: str | None = None) -> dict:
    digest = hmac.new(SECRET.encode(), BODY, HASHES[digest_alg or algorithm or "HMAC_SHA256_HEX"])
    headers = {"X-Payload-Digest": digest.hexdigest()}
    if algorithm is not None:
        headers["X-Payload-Digest-Alg"] = algorithm
    return headers


def test_sha256_event() -> None:
    event = verify_webhook(BODY, _headers(), SECRET)
    assert event.type == "applicantReviewed"
    assert event.applicant_id == "5cb56e8e0a975a35f333cb83"
    assert event.external_user_id == "crm-user-42"
    assert event.level_name == "basic-kyc-level"
    assert event.review_status == "completed"
    assert (event.review_answer, event.reject_type) == ("RED", "RETRY")
    assert event.reject_labels == ("UNSATISFACTORY_PHOTOS",)
    assert event.moderation_comment == "Please retake the photo."
    assert event.client_comment == "Blurry."
    assert event.correlation_id == "req-a260b669-4f14-4bb5-a4c5-ac0218acb9a4"
    assert event.created_at == datetime(2024, 5, 14, 16, 0, 25, 32000, tzinfo=UTC)
    assert event.sandbox_mode is False
    assert event.raw == PAYLOAD


def test_sha512() -> None:
    assert verify_webhook(BODY, _headers("HMAC_SHA512_HEX"), SECRET).type == "applicantReviewed"


def test_sha1_only_when_allowed() -> None:
    with pytest.raises(InvalidWebhook, match="HMAC_SHA1_HEX is not allowed"):
        verify_webhook(BODY, _headers("HMAC_SHA1_HEX"), SECRET)
    allowed = {"HMAC_SHA1_HEX", "HMAC_SHA256_HEX"}
    event = verify_webhook(BODY, _headers("HMAC_SHA1_HEX"), SECRET, allowed_algorithms=allowed)
    assert event.applicant_id == PAYLOAD["applicantId"]


def test_missing_algorithm_header_means_the_default() -> None:
    assert verify_webhook(BODY, _headers(None), SECRET).type == "applicantReviewed"
    sha512 = _headers(None, digest_alg="HMAC_SHA512_HEX")
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(BODY, sha512, SECRET)  # the default is SHA256
    assert verify_webhook(BODY, sha512, SECRET, default_algorithm="HMAC_SHA512_HEX")
    sha1 = _headers(None, digest_alg="HMAC_SHA1_HEX")
    with pytest.raises(ValueError, match="not an allowed one"):
        verify_webhook(BODY, sha1, SECRET, default_algorithm="HMAC_SHA1_HEX")
    old_setup = {"HMAC_SHA1_HEX"}
    assert verify_webhook(
        BODY, sha1, SECRET, allowed_algorithms=old_setup, default_algorithm="HMAC_SHA1_HEX"
    )


def test_bad_digests_are_refused() -> None:
    headers = _headers()
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(BODY, headers, "another-secret")
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(BODY.replace(b"RED", b"GREEN"), headers, SECRET)
    with pytest.raises(InvalidWebhook, match="does not match"):
        # Re-serialised JSON is other bytes: verify the raw body, not a parsed copy.
        verify_webhook(json.dumps(PAYLOAD).encode(), headers, SECRET)
    wrong_alg = _headers("HMAC_SHA512_HEX", digest_alg="HMAC_SHA256_HEX")
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(BODY, wrong_alg, SECRET)
    with pytest.raises(InvalidWebhook, match="does not match"):
        verify_webhook(BODY, {"X-Payload-Digest": "zz\u00e9"}, SECRET)  # not even hex
    with pytest.raises(InvalidWebhook, match="missing X-Payload-Digest"):
        verify_webhook(BODY, {"X-Payload-Digest-Alg": "HMAC_SHA256_HEX"}, SECRET)


def test_unknown_algorithm_is_refused() -> None:
    headers = _headers() | {"X-Payload-Digest-Alg": "HMAC_MD5_HEX"}
    with pytest.raises(InvalidWebhook, match="unknown digest algorithm 'HMAC_MD5_HEX'"):
        verify_webhook(
            BODY, headers, SECRET, allowed_algorithms={"HMAC_MD5_HEX", "HMAC_SHA256_HEX"}
        )


def test_headers_are_case_insensitive_and_digest_case_too() -> None:
    headers = {
        k.lower(): v.upper() if k == "X-Payload-Digest" else v for k, v in _headers().items()
    }
    assert verify_webhook(BODY, headers, SECRET).type == "applicantReviewed"


def test_signed_but_not_an_event() -> None:
    for body in (b"not json", b"[1, 2]", b'{"type": "applicantReviewed"}'):
        headers = {"X-Payload-Digest": sign_webhook(body, SECRET)}
        with pytest.raises(InvalidWebhook):
            verify_webhook(body, headers, SECRET)


def test_sign_webhook_matches_hmac() -> None:
    assert (
        sign_webhook(BODY, SECRET, "HMAC_SHA512_HEX")
        == _headers("HMAC_SHA512_HEX")["X-Payload-Digest"]
    )
    with pytest.raises(ValueError):
        sign_webhook(BODY, SECRET, "HMAC_MD5_HEX")
