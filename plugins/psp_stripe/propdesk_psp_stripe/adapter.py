"""``StripePayments``: the core's payment contract on Stripe, through the official SDK.

Checkout Sessions take the payment; the order reference rides in the session's and the
PaymentIntent's metadata, so every event about the payment names its order. Webhooks are
verified over the raw bytes (``Stripe-Signature``: HMAC-SHA256 of ``t.body``, fresh within the
tolerance) and mapped onto the core's payment events. Amounts cross the edge as minor units.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import stripe

from propdesk.payments.contract import (
    Checkout,
    CheckoutRequest,
    EventKind,
    PaymentEvent,
    PaymentRefused,
    PaymentUnavailable,
    RefundResult,
    WebhookRejected,
)
from propdesk.tenancy.secrets import SECRET_REF, resolve_secrets
from propdesk_psp_stripe.connection import StripeConnection

#: Currencies without a minor unit (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
SIGNATURE_HEADER = "stripe-signature"
CHECKOUT_KINDS: dict[str, EventKind] = {
    "checkout.session.completed": "payment.succeeded",
    "checkout.session.async_payment_succeeded": "payment.succeeded",
    "checkout.session.async_payment_failed": "payment.failed",
    "checkout.session.expired": "checkout.expired",
}
DISPUTE_KINDS: dict[str, EventKind] = {
    "charge.dispute.created": "dispute.opened",
    "charge.dispute.funds_withdrawn": "dispute.funds_withdrawn",
    "charge.dispute.closed": "dispute.closed",
}

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Stripe",
    "additionalProperties": False,
    "required": ["api_key", "webhook_secret"],
    "properties": {
        "api_key": {**SECRET_REF, "description": 'The secret key (sk_…), as { env = "NAME" }.'},
        "webhook_secret": {
            **SECRET_REF,
            "description": "The webhook endpoint's signing secret (whsec_…).",
        },
        "api_base": {
            "type": "string",
            "pattern": "^https?://",
            "description": "Another API address (a simulator); api.stripe.com when absent.",
        },
        "tolerance_seconds": {
            "type": "integer",
            "minimum": 1,
            "maximum": 3600,
            "description": "How old a webhook's signature may be (default 300 s).",
        },
        "max_network_retries": {"type": "integer", "minimum": 0, "maximum": 5},
    },
}


def to_minor(amount: Decimal, currency: str) -> int:
    units = amount if currency.upper() in ZERO_DECIMAL else amount * 100
    if units != units.to_integral_value():
        raise PaymentRefused(f"{amount} {currency} is finer than its smallest unit")
    return int(units)


def from_minor(units: int, currency: str) -> Decimal:
    value = Decimal(units)
    return value if currency.upper() in ZERO_DECIMAL else (value / 100).quantize(Decimal("0.01"))


class StripePayments:
    """The payment contract on Stripe for one desk (``cls(settings)``; no I/O until used)."""

    code: ClassVar[str] = "stripe"
    display_name: ClassVar[str] = "Stripe"
    settings_schema: ClassVar[dict[str, Any]] = SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = dict(settings)
        self._tolerance = int(settings.get("tolerance_seconds", 300))
        self._connection = StripeConnection(self._settings)

    def client(self) -> stripe.StripeClient:
        return self._connection.client()

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """See ``PaymentProvider.create_checkout``: a Checkout Session (``mode=payment``)."""
        metadata = {"order_reference": request.order_reference}
        params: Any = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": to_minor(request.amount, request.currency),
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.order_reference,
            "customer_email": request.customer_email,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        with _mapped():
            session = await self.client().v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        expires = session.expires_at
        return Checkout(
            reference=str(session["id"]),
            url=str(session["url"]),
            expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
        )

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> PaymentEvent:
        """See ``PaymentProvider.parse_webhook``: ``Stripe-Signature`` over the raw body."""
        secret = str(
            resolve_secrets(
                self._settings["webhook_secret"], where="stripe settings /webhook_secret"
            )
        )
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        verify_signature(body, header, secret, now=now, tolerance=self._tolerance)
        try:
            event = json.loads(body)
            return map_event(event)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(f"the webhook body is not a Stripe event: {exc}") from None

    async def refund(
        self, payment_reference: str, amount: Decimal, currency: str, reference: str
    ) -> RefundResult:
        """See ``PaymentProvider.refund``: ``reference`` is the idempotency key."""
        params: Any = {
            "payment_intent": payment_reference,
            "amount": to_minor(amount, currency),
            "metadata": {"reference": reference},
        }
        with _mapped():
            made = await self.client().v1.refunds.create_async(
                params=params, options={"idempotency_key": f"refund:{reference}"}
            )
        status = str(made.status)
        return RefundResult(
            reference=str(made["id"]),
            status="succeeded"
            if status == "succeeded"
            else "failed"
            if status == "failed"
            else "pending",
            amount=from_minor(int(made["amount"]), currency),
        )

    async def close(self) -> None:
        """See ``PaymentProvider.close``."""
        await self._connection.close()


def verify_signature(
    body: bytes, header: str | None, secret: str, *, now: datetime, tolerance: int
) -> None:
    """Stripe's scheme: any ``v1`` equal to HMAC-SHA256(secret, ``"{t}.{body}"``), with ``t``
    no older than ``tolerance`` seconds. Raises ``WebhookRejected`` saying what failed."""
    if not header:
        raise WebhookRejected("no Stripe-Signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
        raise WebhookRejected("the Stripe-Signature header has no timestamp or no v1 signature")
    stamp = int(stamps[0])
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookRejected("no v1 signature matches the endpoint's secret")
    if stamp < now.timestamp() - tolerance:
        raise WebhookRejected(f"the signature is older than {tolerance} s (replayed?)")


def _reference(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    found = metadata.get("order_reference") or obj.get("client_reference_id")
    return str(found) if found else None


def map_event(event: Mapping[str, Any]) -> PaymentEvent:
    """A Stripe event as the core's ``PaymentEvent``."""
    kind_of = str(event["type"])
    obj: Mapping[str, Any] = event["data"]["object"]
    at = datetime.fromtimestamp(int(event["created"]), UTC)
    base: dict[str, Any] = {
        "event_id": str(event["id"]),
        "occurred_at": at,
        "provider_type": kind_of,
    }
    currency = str(obj.get("currency") or "").upper() or None

    def money(field: str) -> Decimal | None:
        units = obj.get(field)
        return from_minor(int(units), currency) if units is not None and currency else None

    if kind_of.startswith("checkout.session."):
        kind = CHECKOUT_KINDS.get(kind_of, "ignored")
        if kind_of == "checkout.session.completed" and obj.get("payment_status") not in (
            "paid",
            "no_payment_required",
        ):
            kind = "payment.pending"  # an async method: the money comes (or not) later
        return PaymentEvent(
            **base,
            kind=kind,
            order_reference=_reference(obj),
            payment_reference=obj.get("payment_intent"),
            amount=money("amount_total"),
            currency=currency,
        )
    if kind_of == "payment_intent.succeeded":
        return PaymentEvent(
            **base,
            kind="payment.succeeded",
            order_reference=_reference(obj),
            payment_reference=str(obj["id"]),
            amount=money("amount_received") or money("amount"),
            currency=currency,
        )
    if kind_of in ("refund.created", "refund.updated") and obj.get("status") == "succeeded":
        return PaymentEvent(
            **base,
            kind="refund.succeeded",
            payment_reference=obj.get("payment_intent"),
            refund_reference=str(obj["id"]),
            amount=money("amount"),
            currency=currency,
        )
    if kind_of == "refund.failed" or (
        kind_of == "refund.updated" and obj.get("status") == "failed"
    ):
        return PaymentEvent(
            **base,
            kind="refund.failed",
            payment_reference=obj.get("payment_intent"),
            refund_reference=str(obj["id"]),
            amount=money("amount"),
            currency=currency,
        )
    if kind_of.startswith("charge.dispute."):
        status = obj.get("status")
        kind = DISPUTE_KINDS.get(kind_of, "ignored")
        return PaymentEvent(
            **base,
            kind=kind,
            payment_reference=obj.get("payment_intent"),
            dispute_reference=str(obj["id"]),
            amount=money("amount"),
            currency=currency,
            dispute_outcome="won" if status == "won" else "lost" if status == "lost" else None,
        )
    return PaymentEvent(**base, kind="ignored")


class _mapped:
    """The SDK's errors as the contract's: retry (unavailable) or give up (refused)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or not isinstance(exc, stripe.StripeError):
            return
        code = getattr(exc, "code", None) or type(exc).__name__
        message = getattr(exc, "user_message", None) or str(exc)
        if isinstance(
            exc, stripe.RateLimitError | stripe.APIConnectionError | stripe.AuthenticationError
        ) or (isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500):
            raise PaymentUnavailable(f"Stripe: {message}", provider_code=str(code)) from exc
        raise PaymentRefused(f"Stripe: {message}", provider_code=str(code)) from exc
