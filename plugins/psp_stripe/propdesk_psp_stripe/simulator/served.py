"""``StripeSimulator``: the simulator under the core's simulator contract
(``propdesk.simulators``), for ``propdesk demo`` and ``propdesk chaos``: a desk's Stripe account
that takes its traders' checkout payments and pays their payouts by Connect transfers."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, ClassVar

from propdesk.simulators import DeskSettings, ServedSimulator
from propdesk_psp_stripe.adapter import StripePayments
from propdesk_psp_stripe.rail import StripeTransfers
from propdesk_psp_stripe.simulator.core import SimulatorConfig
from propdesk_psp_stripe.simulator.server import RunningSimulator, running_simulator
from propdesk_psp_stripe.simulator.webhooks import WebhookEndpoint


class StripeSimulator(ServedSimulator[RunningSimulator]):
    code: ClassVar[str] = "stripe"
    display_name: ClassVar[str] = "Stripe API"
    plugin: ClassVar[str] = "psp_stripe"
    payment_provider: ClassVar[str] = StripePayments.code
    rail: ClassVar[str] = StripeTransfers.code

    def serve(self) -> AbstractContextManager[RunningSimulator]:
        setup, hooks = self.setup, list[WebhookEndpoint]()
        if setup.propdesk_url:
            url = f"{setup.propdesk_url}/api/payments/{self.payment_provider}/webhook/{setup.desk}"
            hooks.append(WebhookEndpoint(url))
        return running_simulator(SimulatorConfig(webhooks=tuple(hooks)))

    def desk_settings(self) -> DeskSettings:
        key, hook = self.env_name("STRIPE_KEY"), self.env_name("STRIPE_WEBHOOK_SECRET")
        settings = {"api_key": {"env": key}, "webhook_secret": {"env": hook}, "api_base": self.url}
        running = self.running
        return DeskSettings(settings, {key: running.secret_key, hook: running.webhook_secret})

    async def pay_checkout(self, checkout_url: str) -> None:
        session_id = checkout_url.rstrip("/").rsplit("/", 1)[-1]
        await self.running.control.pay(session_id)

    async def payout_destination(self, email: str) -> dict[str, Any]:
        return {"account": await self.running.control.add_connected_account(email=email)}
