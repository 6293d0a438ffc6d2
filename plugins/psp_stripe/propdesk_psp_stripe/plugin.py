"""The Stripe plugin's hooks: it registers the payment provider, the payout rail (Connect
transfers) and their settings."""

from __future__ import annotations

from typing import Any

from propdesk import hookimpl
from propdesk.payments.contract import PaymentProvider
from propdesk.payouts.contract import PayoutRail
from propdesk_psp_stripe.adapter import SETTINGS_SCHEMA, StripePayments
from propdesk_psp_stripe.rail import StripeTransfers


@hookimpl
def propdesk_register_payment_providers() -> list[type[PaymentProvider]]:
    return [StripePayments]


@hookimpl
def propdesk_register_payout_rails() -> list[type[PayoutRail]]:
    return [StripeTransfers]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA
