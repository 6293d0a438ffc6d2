"""Fixtures of the MT5 plugin's tests: a simulator per module, reset before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from mt5kit import Wire

from propdesk_mt5.simulator import RunningSimulator, SimulatorConfig, running_simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig()) as running:
        yield running


@pytest.fixture
async def sim(simulator: RunningSimulator) -> RunningSimulator:
    await simulator.control.reset()
    return simulator


@pytest.fixture
async def wire(sim: RunningSimulator) -> AsyncIterator[Wire]:
    session = Wire(sim.url)
    assert (await session.login())["retcode"] == "0 Done"
    yield session
    await session.aclose()
