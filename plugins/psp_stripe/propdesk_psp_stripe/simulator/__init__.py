"""A local Stripe API for tests and demos: a stateful subset of the real wire surface
(Checkout Sessions, PaymentIntents, charges, refunds, disputes, events) driven by the real
``stripe`` SDK, a webhook sender signing like Stripe, and a control API under ``/__sim__/``.

    with running_simulator(SimulatorConfig()) as sim:
        client = stripe.StripeClient(sim.secret_key, base_addresses=sim.base_addresses)
        session = client.v1.checkout.sessions.create(params={...})
        await sim.control.pay(session.id)
"""

from propdesk_psp_stripe.simulator.control_client import StripeSimulatorControl
from propdesk_psp_stripe.simulator.core import (
    API_VERSION,
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    Simulator,
    SimulatorConfig,
)
from propdesk_psp_stripe.simulator.server import RunningSimulator, create_app, running_simulator
from propdesk_psp_stripe.simulator.webhooks import DeliveryMode, WebhookEndpoint, signature_header

__all__ = [
    "API_VERSION",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "DeliveryMode",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "StripeSimulatorControl",
    "WebhookEndpoint",
    "create_app",
    "running_simulator",
    "signature_header",
]
