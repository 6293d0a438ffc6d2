"""``StripeTransfers``: the core's payout rail on Stripe Connect, a transfer from the platform's
balance to the trader's connected account.

Exactly once: every attempt sends the instruction's idempotency key as Stripe's
``Idempotency-Key``, and first looks for a transfer already made for the payout (its
``transfer_group`` is the payout's reference), which still finds it once Stripe has forgotten
the key (after 24 h) or when its saved answer was a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import stripe

from propdesk.payments.contract import PaymentRefused
from propdesk.payouts.contract import (
    PayoutInstruction,
    PayoutRefused,
    PayoutUnavailable,
    RailResult,
)
from propdesk_psp_stripe.adapter import SETTINGS_SCHEMA, to_minor
from propdesk_psp_stripe.connection import StripeConnection

ACCOUNT_PATTERN = "^acct_[A-Za-z0-9]+$"
DESTINATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Stripe connected account",
    "additionalProperties": False,
    "required": ["account"],
    "properties": {
        "account": {
            "type": "string",
            "pattern": ACCOUNT_PATTERN,
            "description": "The trader's connected account (acct_…).",
        }
    },
}
#: The answers that refuse for good; anything else may pass on a retry with the same key.
REFUSING_STATUSES = frozenset({400, 402, 404})


class StripeTransfers:
    """The payout rail on Stripe for one desk (``cls(settings)``; no I/O until used)."""

    code: ClassVar[str] = "stripe"
    display_name: ClassVar[str] = "Stripe Connect transfers"
    settings_schema: ClassVar[dict[str, Any]] = SETTINGS_SCHEMA
    destination_schema: ClassVar[dict[str, Any]] = DESTINATION_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._connection = StripeConnection(dict(settings))

    async def pay(self, instruction: PayoutInstruction) -> RailResult:
        """See ``PayoutRail.pay``: one transfer per instruction's reference."""
        account = str(instruction.destination.get("account") or "")
        if not re.match(ACCOUNT_PATTERN, account):
            raise PayoutRefused(
                f"{account or 'no account'} is not a Stripe connected account (acct_…)",
                provider_code="destination_invalid",
            )
        currency = instruction.currency.lower()
        try:
            amount = to_minor(instruction.amount, instruction.currency)
        except PaymentRefused as exc:
            raise PayoutRefused(str(exc), provider_code="amount_invalid") from None
        params: Any = {
            "amount": amount,
            "currency": currency,
            "destination": account,
            "transfer_group": instruction.reference,
            "metadata": {"payout_reference": instruction.reference},
        }
        if instruction.description:
            params["description"] = instruction.description
        transfers = self._connection.client().v1.transfers
        with _mapped():
            found = await self._made_for(instruction.reference)
            if found is not None:
                _check_same(found, amount, currency, account)
                return _result(found, replayed=True)
            made = await transfers.create_async(
                params=params, options={"idempotency_key": instruction.idempotency_key}
            )
        answer = made.last_response
        replayed = answer is not None and answer.headers.get("idempotent-replayed") == "true"
        return _result(made, replayed=replayed)

    async def _made_for(self, reference: str) -> stripe.Transfer | None:
        """The transfer already made for the payout ``reference``, if any."""
        page = await self._connection.client().v1.transfers.list_async(
            params={"transfer_group": reference, "limit": 100}
        )
        # Charges may share a transfer group: the metadata says which transfer is ours.
        ours = [t for t in page.data if _payout_reference(t) == reference]
        return ours[-1] if ours else None  # newest first: the oldest paid it

    async def close(self) -> None:
        """See ``PayoutRail.close``."""
        await self._connection.close()


def _payout_reference(transfer: stripe.Transfer) -> str | None:
    metadata = transfer.to_dict().get("metadata") or {}  # a StripeObject is no dict
    return metadata.get("payout_reference")


def _check_same(found: stripe.Transfer, amount: int, currency: str, account: str) -> None:
    if (found.amount, found.currency, found.destination) != (amount, currency, account):
        # Paid already, but not as asked: a person must look (paying again could pay twice).
        raise PayoutRefused(
            f"transfer {found.id} for this payout pays {found.amount} {found.currency} to "
            f"{found.destination}, not {amount} {currency} to {account}",
            provider_code="transfer_mismatch",
        )


def _result(transfer: stripe.Transfer, *, replayed: bool) -> RailResult:
    return RailResult(
        status="paid",
        rail_reference=str(transfer.id),
        at=datetime.fromtimestamp(int(transfer.created), UTC),
        replayed=replayed,
    )


class _mapped:
    """The SDK's errors as the contract's: refused for good (an invalid request, refused by
    Stripe) or unavailable (network, timeouts, 401/403, 409, 429, 5xx: ask again)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or not isinstance(exc, stripe.StripeError):
            return
        error = exc.error
        code = exc.code or (error.type if error is not None else None) or type(exc).__name__
        message = f"Stripe: {exc.user_message or str(exc)}"
        if exc.http_status in REFUSING_STATUSES and not isinstance(exc, stripe.RateLimitError):
            raise PayoutRefused(message, provider_code=str(code)) from exc
        raise PayoutUnavailable(message, provider_code=str(code)) from exc
