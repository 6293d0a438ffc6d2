"""The ASGI application (the signed wire API in front of a Litestar app with the WebSDK page and
the control API) and ``running_simulator``, which serves it with uvicorn in a background
thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from litestar import Litestar

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
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say they are TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    port = sock.getsockname()[1]
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
        target=server.run, kwargs={"sockets": [sock]}, name="sumsub-simulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the Sumsub simulator did not start")
        time.sleep(0.01)
    host = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    url = f"http://{host}:{port}"
    try:
        yield RunningSimulator(url, SumsubSimulatorControl(url), sim)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
