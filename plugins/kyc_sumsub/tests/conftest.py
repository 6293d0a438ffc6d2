"""Fixtures of the Sumsub plugin's tests: a simulator per module (reset before each test), a
client of it, and a webhook receiver."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The plugin may not be installed in the environment running the tests: use the checkout.
PLUGIN_ROOT = Path(__file__).resolve().parents[1]
try:
    import propdesk_kyc_sumsub  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(PLUGIN_ROOT))

from sumsubkit import Receiver  # noqa: E402

from propdesk_kyc_sumsub import SumsubClient  # noqa: E402
from propdesk_kyc_sumsub.simulator import (  # noqa: E402
    RunningSimulator,
    SimulatorConfig,
    running_simulator,
)

LEVELS = ("basic-kyc-level", "pro level")


@pytest.fixture(scope="module")
async def simulator() -> AsyncIterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(levels=LEVELS, seed=7)) as running:
        yield running
        await running.control.aclose()


@pytest.fixture
async def sim(simulator: RunningSimulator) -> RunningSimulator:
    await simulator.control.reset()
    return simulator


@pytest.fixture
async def client(sim: RunningSimulator) -> AsyncIterator[SumsubClient]:
    # Signs with the simulator's clock, so tests may move it (as if both ran NTP).
    async with SumsubClient(
        sim.url,
        sim.app_token,
        sim.secret_key,
        backoff=0.01,
        max_backoff=0.5,
        clock=sim.simulator.now,
    ) as made:
        yield made


@pytest.fixture(scope="module")
def webhook_receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def receiver(webhook_receiver: Receiver) -> Receiver:
    webhook_receiver.clear()
    return webhook_receiver
