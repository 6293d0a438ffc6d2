"""The ASGI application (the signed wire API in front of a Litestar app with the WebSDK page and
the control API) and ``running_simulator``, which serves it with uvicorn in a background
thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from litestar import Litestar

from propdesk.testing.simulators import ThreadedServer
from propdesk_kyc_sumsub.simulator.config import SimulatorConfig
from propdesk_kyc_sumsub.simulator.control import control_router
from propdesk_kyc_sumsub.simulator.control_client import SumsubSimulatorControl
from propdesk_kyc_sumsub.simulator.state import Simulator
from propdesk_kyc_sumsub.simulator.websdk import websdk_router
from propdesk_kyc_sumsub.simulator.wire import WireApp


def create_app(sim: Simulator | SimulatorConfig | None = None) -> WireApp:
    """The simulator as one ASGI application (its webhook sender runs during the lifespan)."""
    simulator = sim if isinstance(sim, Simulator) else Simulator(sim)
    inner = Litestar(
        route_handlers=[control_router(simulator), websdk_router(simulator)],
        on_startup=[simulator.sender.start],
        on_shutdown=[simulator.sender.stop],
        openapi_config=None,
        logging_config=None,
    )
    return WireApp(simulator, inner)


@dataclass
class RunningSimulator:
    url: str
    control: SumsubSimulatorControl
    #: The simulator itself, for in-process assertions (take ``simulator.lock`` to read).
    simulator: Simulator

    @property
    def config(self) -> SimulatorConfig:
        return self.simulator.config

    @property
    def app_token(self) -> str:
        return self.simulator.config.app_token

    @property
    def secret_key(self) -> str:
        return self.simulator.config.secret_key

    @property
    def webhook_secret(self) -> str:
        return self.simulator.config.webhook_secret


@contextmanager
def running_simulator(config: SimulatorConfig | None = None) -> Iterator[RunningSimulator]:
    """Serves a simulator on ``config.host`` (an ephemeral port unless ``config.port``) in a
    background thread; ready on entry, stopped on exit."""
    config = config or SimulatorConfig()
    sim = Simulator(config)
    server = ThreadedServer(create_app(sim), config.host, config.port, name="sumsub-simulator")
    with server:
        yield RunningSimulator(server.url, SumsubSimulatorControl(server.url), sim)
