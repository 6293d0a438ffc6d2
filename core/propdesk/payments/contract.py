"""The payment contract: what the core asks of a payment provider (Stripe, ...).

A payment plugin registers a provider class through ``propdesk_register_payment_providers``;
the core makes one per desk with ``cls(settings)`` (the desk's settings of the plugin, secrets
still as ``{"env": NAME}`` references) and:

- **takes a payment** by asking for a hosted checkout of an order (``create_checkout``) and
  sending the trader to its ``url``. Nothing is paid until the provider says so;
- **learns what happened** only from the provider's signed webhooks: the core's endpoint
  ``POST /api/payments/<code>/webhook`` (on the desk's domain) hands the raw body and headers to
  ``parse_webhook``, which verifies the signature and maps the provider's event onto a
  ``PaymentEvent``. The core keeps each event id once, so a webhook delivered five times, or
  out of order with its siblings, changes state once;
- **refunds** from the back office (``refund``), idempotently by the core's reference.

Money is ``Decimal`` in the order's currency (a provider converts to its minor units at the
edge); times are aware UTC datetimes. Calls may raise ``PaymentUnavailable`` (retry later with
the same arguments) or ``PaymentRefused`` (permanent); ``parse_webhook`` raises
``WebhookRejected`` for anything it cannot verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from propdesk.errors import ProviderError, WebhookRejected

__all__ = [
    "Checkout",
    "CheckoutRequest",
    "EventKind",
    "PaymentError",
    "PaymentEvent",
    "PaymentProvider",
    "PaymentRefused",
    "PaymentUnavailable",
    "RefundResult",
    "WebhookRejected",
]

#: What a provider's event means for the core; ``ignored`` for the events it does not act on.
EventKind = Literal[
    "payment.succeeded",
    "payment.pending",
    "payment.failed",
    "checkout.expired",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.funds_withdrawn",
    "dispute.closed",
    "ignored",
]


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A hosted checkout for one order."""

    #: The core's order reference (``order:42``): every event about this payment carries it.
    order_reference: str
    amount: Decimal
    #: ISO 4217, upper case.
    currency: str
    #: What the trader sees they are paying for.
    description: str
    customer_email: str
    #: Where the provider sends the trader back after paying or giving up.
    success_url: str
    cancel_url: str
    #: Sent as the provider's idempotency key: asking twice yields one checkout.
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Checkout:
    #: The provider's id of the checkout (Stripe ``cs_…``).
    reference: str
    #: Where to send the trader.
    url: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified provider event, as the core acts on it."""

    #: The provider's event id: the core acts on each once.
    event_id: str
    kind: EventKind
    #: When the provider says it happened (UTC).
    occurred_at: datetime
    #: The provider's own event type (``checkout.session.completed``), for the record.
    provider_type: str
    #: ``CheckoutRequest.order_reference`` when the event concerns an order's payment.
    order_reference: str | None = None
    #: The provider's id of the payment (Stripe ``pi_…``): what refunds name.
    payment_reference: str | None = None
    #: Amount the event moved (paid, refunded, disputed), in ``currency``.
    amount: Decimal | None = None
    currency: str | None = None
    #: The refund or dispute the event is about.
    refund_reference: str | None = None
    dispute_reference: str | None = None
    #: For ``dispute.closed``: whether the firm kept the money.
    dispute_outcome: Literal["won", "lost"] | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    #: The provider's refund id (Stripe ``re_…``).
    reference: str
    status: Literal["succeeded", "pending", "failed"]
    amount: Decimal


class PaymentError(ProviderError):
    """The provider did not do what was asked; ``provider_code`` keeps its own code."""

    title = "Payment provider error"
    slug = "payment-error"


class PaymentUnavailable(PaymentError):
    """Unreachable, rate-limited, or the outcome is unknown: call again with the same
    arguments (the idempotency key makes a repeat safe)."""

    status = 503
    title = "Payment provider unavailable"
    slug = "payment-unavailable"


class PaymentRefused(PaymentError):
    """Refused for good (an invalid amount, a refund over what is left)."""

    status = 409
    title = "Refused by the payment provider"
    slug = "payment-refused"


@runtime_checkable
class PaymentProvider(Protocol):
    """Takes traders' payments for orders and handles refunds and disputes (Stripe, ...).

    Identity as every component; made per desk with ``cls(settings)``; construction does no
    I/O; ``close()`` releases connections.
    """

    code: ClassVar[str]
    display_name: ClassVar[str]
    settings_schema: ClassVar[dict[str, Any]]

    def __init__(self, settings: Mapping[str, Any]) -> None: ...

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """A hosted checkout for ``request``; the same ``idempotency_key`` yields the same one.

        Called from the order's HTTP request. The outcome arrives by webhook, never here.

        :raises PaymentUnavailable: try again.
        :raises PaymentRefused: the amount or currency cannot be taken.
        """
        ...

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> PaymentEvent:
        """Verify a webhook (signature over the raw ``body``, freshness against ``now``) and
        map it onto a ``PaymentEvent``. Synchronous and without I/O: the core calls it before
        opening its transaction.

        :raises WebhookRejected: not verifiable (the core answers 400 and records nothing).
        """
        ...

    async def refund(
        self, payment_reference: str, amount: Decimal, currency: str, reference: str
    ) -> RefundResult:
        """Refund ``amount`` of a payment; ``reference`` is the core's id of this refund and
        the provider's idempotency key (a repeat refunds once).

        :raises PaymentRefused: more than what is left, or the payment cannot be refunded.
        :raises PaymentUnavailable: try again with the same reference.
        """
        ...

    async def close(self) -> None:
        """Release connections; idempotent."""
        ...
