"""Verifying Sumsub's webhooks: ``X-Payload-Digest`` is the hex HMAC of the raw body under the
webhook's own secret, with the algorithm named by ``X-Payload-Digest-Alg`` (or the configured
default when that header is missing)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DIGEST_HEADER = "x-payload-digest"
ALG_HEADER = "x-payload-digest-alg"

ALGORITHMS: dict[str, Callable[..., Any]] = {
    "HMAC_SHA1_HEX": hashlib.sha1,
    "HMAC_SHA256_HEX": hashlib.sha256,
    "HMAC_SHA512_HEX": hashlib.sha512,
}
#: SHA1 is left out unless a desk's webhook was set up with it.
DEFAULT_ALLOWED = frozenset({"HMAC_SHA256_HEX", "HMAC_SHA512_HEX"})
CREATED_AT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class InvalidWebhook(Exception):
    """The request is not a genuine Sumsub webhook (or not one we accept); ``reason`` says why.
    Answer it with a 4xx: Sumsub retries, and a forged one is never processed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign_webhook(raw_body: bytes, secret: str | bytes, algorithm: str = "HMAC_SHA256_HEX") -> str:
    """The ``X-Payload-Digest`` of ``raw_body`` (for tests and re-signing relays)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown digest algorithm {algorithm!r}")
    return hmac.new(_key(secret), raw_body, ALGORITHMS[algorithm]).hexdigest()


def parse_created_at(value: Any) -> datetime | None:
    """``createdAtMs`` (``yyyy-MM-dd HH:mm:ss.fff``, UTC) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    for pattern in (CREATED_AT_FORMAT, "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class WebhookEvent:
    """One verified webhook. De-duplicate on ``correlation_id``, order by ``created_at``, and
    re-read ``/status`` for the truth: Sumsub delivers twice and out of order."""

    type: str
    applicant_id: str
    external_user_id: str | None
    level_name: str | None
    review_status: str | None
    review_answer: str | None
    reject_type: str | None
    reject_labels: tuple[str, ...]
    moderation_comment: str | None
    correlation_id: str | None
    created_at: datetime | None
    inspection_id: str | None = None
    client_comment: str | None = None
    sandbox_mode: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> WebhookEvent:
        if not isinstance(data.get("type"), str) or not data.get("applicantId"):
            raise InvalidWebhook("the payload has no type or applicantId")
        result = data.get("reviewResult")
        result = result if isinstance(result, dict) else {}
        sandbox = data.get("sandboxMode")
        return cls(
            type=data["type"],
            applicant_id=str(data["applicantId"]),
            external_user_id=_opt(data.get("externalUserId")),
            level_name=_opt(data.get("levelName")),
            review_status=_opt(data.get("reviewStatus")),
            review_answer=_opt(result.get("reviewAnswer")),
            reject_type=_opt(result.get("reviewRejectType")),
            reject_labels=tuple(str(x) for x in result.get("rejectLabels") or ()),
            moderation_comment=_opt(result.get("moderationComment")),
            correlation_id=_opt(data.get("correlationId")),
            created_at=parse_created_at(data.get("createdAtMs")),
            inspection_id=_opt(data.get("inspectionId")),
            client_comment=_opt(result.get("clientComment")),
            sandbox_mode=sandbox if isinstance(sandbox, bool) else None,
            raw=data,
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Plain dicts are case-sensitive; httpx's and Litestar's headers are not. Accept both.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def verify_webhook(
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    allowed_algorithms: Collection[str] = DEFAULT_ALLOWED,
    default_algorithm: str = "HMAC_SHA256_HEX",
) -> WebhookEvent:
    """Checks the digest of the **raw** body (before any JSON parsing: re-serialising changes
    the bytes) in constant time, then parses it. Raises ``InvalidWebhook``."""
    if default_algorithm not in allowed_algorithms:
        raise ValueError(f"the default algorithm {default_algorithm} is not an allowed one")
    if not secret:
        raise ValueError("no webhook secret configured")
    digest = _header(headers, DIGEST_HEADER)
    if not digest:
        raise InvalidWebhook("missing X-Payload-Digest header")
    algorithm = (_header(headers, ALG_HEADER) or "").strip() or default_algorithm
    if algorithm not in ALGORITHMS:
        raise InvalidWebhook(f"unknown digest algorithm {algorithm!r}")
    if algorithm not in allowed_algorithms:
        raise InvalidWebhook(f"digest algorithm {algorithm} is not allowed")
    expected = sign_webhook(raw_body, secret, algorithm).encode("ascii")
    if not hmac.compare_digest(expected, digest.strip().lower().encode("utf-8", "replace")):
        raise InvalidWebhook(f"X-Payload-Digest does not match the body ({algorithm})")
    try:
        data = json.loads(raw_body)
    except ValueError:
        raise InvalidWebhook("the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidWebhook("the body is not a JSON object")
    return WebhookEvent.from_payload(data)
