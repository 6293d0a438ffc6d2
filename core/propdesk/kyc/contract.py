"""The KYC contract: what the core asks of an identity-verification provider (Sumsub, ...).

A KYC plugin registers a provider class through ``propdesk_register_kyc_providers``; the core
makes one per desk with ``cls(settings)`` (secrets still as ``{"env": NAME}`` references) and:

- **starts a verification** for a trader (``start``): the provider knows the trader by the
  core's ``external_id`` (``trader:42``), creating its applicant once however often it is
  asked, and returns what the trader's browser needs (an SDK access token, a URL);
- **reads the verdict** (``check``): the provider's truth now, mapped onto ``KycStatus``;
- **verifies webhooks** (``parse_webhook``), which only tell the core *that* something changed
  for a trader: the core then asks ``check`` for the truth, so deliveries in any order, late
  or repeated, end in the provider's current verdict (a later rejection revokes an approval).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from propdesk.errors import PropdeskError, WebhookRejected

__all__ = [
    "KycCheck",
    "KycEvent",
    "KycProvider",
    "KycRefused",
    "KycSession",
    "KycStatus",
    "KycSubject",
    "KycUnavailable",
    "WebhookRejected",
]

#: Where a trader's verification stands.
KycStatus = Literal["not_started", "pending", "approved", "rejected_retry", "rejected_final"]


@dataclass(frozen=True, slots=True)
class KycSubject:
    """Who is verified: the core's id of the trader and what it knows of them."""

    external_id: str
    email: str
    first_name: str
    last_name: str
    #: ISO 3166 alpha-2.
    country: str


@dataclass(frozen=True, slots=True)
class KycSession:
    """What the trader's browser needs to submit documents."""

    #: The provider's id of the trader's applicant.
    applicant_reference: str
    access_token: str
    #: A page to send the trader to, when the provider hosts one.
    url: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class KycCheck:
    applicant_reference: str | None
    status: KycStatus
    #: What the trader may read about a rejection (the provider's moderation comment).
    reason: str | None = None
    #: The provider's rejection labels, for staff.
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KycEvent:
    """A verified webhook: something changed for ``external_id``."""

    event_id: str
    provider_type: str
    occurred_at: datetime
    external_id: str | None
    applicant_reference: str | None


class KycUnavailable(PropdeskError):
    """Unreachable or rate-limited: try again."""

    status = 503
    title = "KYC provider unavailable"
    slug = "kyc-unavailable"


class KycRefused(PropdeskError):
    """Refused for good (an unknown level, invalid data)."""

    status = 409
    title = "Refused by the KYC provider"
    slug = "kyc-refused"


@runtime_checkable
class KycProvider(Protocol):
    """Verifies traders' identity (Sumsub, ...); made per desk with ``cls(settings)``."""

    code: ClassVar[str]
    display_name: ClassVar[str]
    settings_schema: ClassVar[dict[str, Any]]

    def __init__(self, settings: Mapping[str, Any]) -> None: ...

    async def start(self, subject: KycSubject) -> KycSession:
        """Create the subject's applicant (once: by ``external_id``) and a fresh access token.

        :raises KycUnavailable: try again.
        :raises KycRefused: the provider will not verify this subject as configured.
        """
        ...

    async def check(self, external_id: str) -> KycCheck:
        """The provider's verdict now (``not_started`` when it has no applicant).

        :raises KycUnavailable: try again.
        """
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str], *, now: datetime) -> KycEvent:
        """Verify a webhook over its raw ``body``; synchronous and without I/O.

        :raises WebhookRejected: not verifiable.
        """
        ...

    async def close(self) -> None:
        """Release connections; idempotent."""
        ...
