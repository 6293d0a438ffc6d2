"""The Stripe plugin's hooks: it registers the payment provider, the payout rail (Connect
transfers), their settings and the Stripe simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from propdesk import hookimpl
from propdesk.payments.contract import PaymentProvider
from propdesk.payouts.contract import PayoutRail
from propdesk_psp_stripe.adapter import SETTINGS_SCHEMA, StripePayments
from propdesk_psp_stripe.rail import StripeTransfers

if TYPE_CHECKING:
    from propdesk.simulators import Simulator


@hookimpl
def propdesk_register_payment_providers() -> list[type[PaymentProvider]]:
    return [StripePayments]


@hookimpl
def propdesk_register_payout_rails() -> list[type[PayoutRail]]:
    return [StripeTransfers]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA


@hookimpl
def propdesk_register_simulators() -> list[type[Simulator]]:
    # Imported here: only the commands that run simulators load them.
    from propdesk_psp_stripe.simulator.served import StripeSimulator

    return [StripeSimulator]
