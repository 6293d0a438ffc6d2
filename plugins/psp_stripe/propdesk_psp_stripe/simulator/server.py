"""The ASGI application (the ``/v1`` wire in front of the Litestar control API and hosted
checkout page) and ``running_simulator``, which serves it with uvicorn in a background
thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from litestar import Litestar

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
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say they are TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    port = sock.getsockname()[1]
    host = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    url = f"http://{host}:{port}"
    sim.base_url = url
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sim),
            lifespan="on",
            loop="asyncio",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stripe-simulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the Stripe simulator did not start")
        time.sleep(0.01)
    try:
        yield RunningSimulator(url, StripeSimulatorControl(url), sim)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
