"""``SumsubKyc``: the core's KYC contract on Sumsub.

The trader is Sumsub's ``externalUserId`` (the core's ``trader:<id>``), so an applicant is made
once however often verification starts. Verdicts are always read back (``applicant`` by
external id): a webhook only says that something changed, and its digest is checked over the
raw body before anything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from propdesk.errors import WebhookRejected
from propdesk.kyc.contract import (
    KycCheck,
    KycEvent,
    KycRefused,
    KycSession,
    KycStatus,
    KycSubject,
    KycUnavailable,
)
from propdesk.tenancy.secrets import SECRET_REF, resolve_secrets
from propdesk_kyc_sumsub.client import SumsubClient
from propdesk_kyc_sumsub.errors import NotFound, RateLimited, SumsubError, Unavailable
from propdesk_kyc_sumsub.models import Applicant
from propdesk_kyc_sumsub.webhooks import InvalidWebhook, verify_webhook

ALGORITHMS = ["HMAC_SHA256_HEX", "HMAC_SHA512_HEX", "HMAC_SHA1_HEX"]
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Sumsub",
    "additionalProperties": False,
    "required": ["app_token", "secret_key", "webhook_secret"],
    "properties": {
        "base_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "The API (https://api.sumsub.com unless a simulator).",
        },
        "app_token": {**SECRET_REF, "description": 'The app token, as { env = "NAME" }.'},
        "secret_key": {**SECRET_REF, "description": "The app token's secret key."},
        "webhook_secret": {**SECRET_REF, "description": "The webhook's secret key."},
        "level_name": {"type": "string", "minLength": 1, "description": "Default basic-kyc-level."},
        "webhook_algorithms": {
            "type": "array",
            "items": {"enum": ALGORITHMS},
            "minItems": 1,
            "description": "Digests accepted (default SHA-256 and SHA-512; SHA-1 only if listed).",
        },
        "websdk_url": {
            "type": "string",
            "description": "A page hosting the WebSDK, with {token} for the access token.",
        },
        "token_ttl_seconds": {"type": "integer", "minimum": 60, "maximum": 86400},
    },
}


def status_of(applicant: Applicant) -> KycStatus:
    """Sumsub's review as the core's status."""
    if applicant.review_status == "completed":
        if applicant.review_answer == "GREEN":
            return "approved"
        return "rejected_final" if applicant.reject_type == "FINAL" else "rejected_retry"
    if applicant.review_status in (None, "", "init"):
        return "not_started"
    return "pending"  # pending, queued, prechecked, onHold, awaiting…


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except (Unavailable, RateLimited) as exc:
        raise KycUnavailable(f"Sumsub: {exc}") from exc
    except SumsubError as exc:
        raise KycRefused(f"Sumsub: {exc}") from exc


class SumsubKyc:
    """The KYC contract on Sumsub for one desk (``cls(settings)``; no I/O until used)."""

    code: ClassVar[str] = "sumsub"
    display_name: ClassVar[str] = "Sumsub"
    settings_schema: ClassVar[dict[str, Any]] = SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = dict(settings)
        self.level = str(settings.get("level_name", "basic-kyc-level"))
        self._client: SumsubClient | None = None

    def _secret(self, name: str) -> str:
        return str(resolve_secrets(self._settings[name], where=f"sumsub settings /{name}"))

    def client(self) -> SumsubClient:
        if self._client is None:
            self._client = SumsubClient(
                str(self._settings.get("base_url", "https://api.sumsub.com")),
                self._secret("app_token"),
                self._secret("secret_key"),
            )
        return self._client

    async def start(self, subject: KycSubject) -> KycSession:
        """See ``KycProvider.start``: the applicant by external id, then an SDK token."""
        ttl = int(self._settings.get("token_ttl_seconds", 600))
        with _mapped():
            applicant = await self.client().create_applicant(
                subject.external_id,
                self.level,
                email=subject.email,
                first_name=subject.first_name or None,
                last_name=subject.last_name or None,
            )
            token = await self.client().sdk_access_token(
                subject.external_id, self.level, ttl_seconds=ttl, email=subject.email
            )
        page = self._settings.get("websdk_url")
        return KycSession(
            applicant_reference=applicant.id,
            access_token=token.token,
            url=str(page).replace("{token}", token.token) if page else None,
            expires_at=token.expires,
        )

    async def check(self, external_id: str) -> KycCheck:
        """See ``KycProvider.check``: the applicant's review now."""
        try:
            with _mapped():
                applicant = await self.client().applicant_by_external_id(external_id)
        except KycRefused as exc:
            if isinstance(exc.__cause__, NotFound):
                return KycCheck(None, "not_started")
            raise
        status = status_of(applicant)
        return KycCheck(
            applicant.id,
            status,
            reason=applicant.moderation_comment if status.startswith("rejected") else None,
            labels=tuple(applicant.reject_labels),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str], *, now: datetime) -> KycEvent:
        """See ``KycProvider.parse_webhook``: ``X-Payload-Digest`` over the raw body."""
        allowed = self._settings.get("webhook_algorithms") or ALGORITHMS[:2]
        try:
            event = verify_webhook(
                body, headers, self._secret("webhook_secret"), allowed_algorithms=set(allowed)
            )
        except InvalidWebhook as exc:
            raise WebhookRejected(f"Sumsub webhook: {exc}") from None
        return KycEvent(
            event_id=event.correlation_id
            or f"{event.applicant_id}:{event.type}:{event.created_at}",
            provider_type=event.type,
            occurred_at=event.created_at or now.astimezone(UTC),
            external_id=event.external_user_id,
            applicant_reference=event.applicant_id,
        )

    async def close(self) -> None:
        """See ``KycProvider.close``."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
