"""Fixtures of the Stripe simulator's tests: a simulator per module (retries compressed),
reset before each test, a real ``stripe`` SDK client, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from stripe_simkit import Receiver

from propdesk_psp_stripe.simulator import RunningSimulator, SimulatorConfig, running_simulator

#: Three retries, 0.05 s then 0.1 s then 0.2 s after the failures.
RETRIES = (0.05, 0.1, 0.2)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(webhook_retry_delays=RETRIES)) as running:
        yield running


@pytest.fixture
async def sim(simulator: RunningSimulator) -> RunningSimulator:
    await simulator.control.reset()
    return simulator


@pytest.fixture
def client(sim: RunningSimulator) -> stripe.StripeClient:
    return stripe.StripeClient(sim.secret_key, base_addresses=sim.base_addresses)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
async def hooked(sim: RunningSimulator, receiver: Receiver) -> Receiver:
    """The receiver, registered as an endpoint for every event (default secret)."""
    await sim.control.add_endpoint(receiver.url)
    return receiver
