"""The Stripe plugin's hooks: it registers the payment provider and its settings."""

from __future__ import annotations

from typing import Any

from propdesk import hookimpl
from propdesk.payments.contract import PaymentProvider
from propdesk_psp_stripe.adapter import SETTINGS_SCHEMA, StripePayments


@hookimpl
def propdesk_register_payment_providers() -> list[type[PaymentProvider]]:
    return [StripePayments]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA
