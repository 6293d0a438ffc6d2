"""The ASGI application (the ``/v1`` wire in front of the Litestar control API and hosted
checkout page) and ``running_simulator``, which serves it with uvicorn in a background
thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Litestar

from propdesk.testing.simulators import ThreadedServer
from propdesk_psp_stripe.simulator.api import WireApp
from propdesk_psp_stripe.simulator.control import control_router
from propdesk_psp_stripe.simulator.control_client import StripeSimulatorControl
from propdesk_psp_stripe.simulator.core import Simulator, SimulatorConfig
from propdesk_psp_stripe.simulator.page import page_router

if TYPE_CHECKING:
    import stripe


def create_app(sim: Simulator | SimulatorConfig | None = None) -> WireApp:
    """The simulator as one ASGI application (its webhook sender runs during the lifespan)."""
    simulator = sim if isinstance(sim, Simulator) else Simulator(sim)
    inner = Litestar(
        route_handlers=[control_router(simulator), page_router(simulator)],
        on_startup=[simulator.start],
        on_shutdown=[simulator.stop],
        openapi_config=None,
        logging_config=None,
    )
    return WireApp(simulator, inner)


@dataclass
class RunningSimulator:
    url: str
    control: StripeSimulatorControl
    #: The simulator itself, for in-process assertions (take ``simulator.lock`` to read).
    simulator: Simulator

    @property
    def secret_key(self) -> str:
        return self.simulator.config.secret_keys[0]

    @property
    def webhook_secret(self) -> str:
        """What endpoints added without a secret sign with."""
        return self.simulator.config.webhook_secret

    @property
    def base_addresses(self) -> dict[str, str]:
        """For ``stripe.StripeClient(key, base_addresses=...)``."""
        return {"api": self.url, "connect": self.url, "files": self.url}

    def stripe_client(self, **options: Any) -> stripe.StripeClient:
        """A ``stripe.StripeClient`` pointed here (options go to its constructor)."""
        import stripe as sdk  # here: the simulator itself does not need the SDK

        url = self.url
        return sdk.StripeClient(
            self.secret_key,
            base_addresses={"api": url, "connect": url, "files": url},
            **options,
        )


@contextmanager
def running_simulator(config: SimulatorConfig | None = None) -> Iterator[RunningSimulator]:
    """Serves a simulator on ``config.host`` (an ephemeral port unless ``config.port``) in a
    background thread; ready on entry, stopped on exit."""
    config = config or SimulatorConfig()
    sim = Simulator(config)
    server = ThreadedServer(create_app(sim), config.host, config.port, name="stripe-simulator")
    # Before it serves: hosted checkout URLs are made from it.
    sim.base_url = server.url
    with server:
        yield RunningSimulator(server.url, StripeSimulatorControl(server.url), sim)
