"""The MT5 adapter passes the core's platform contract suite against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mt5kit import PASSWORD_ENV, MT5Harness, adapter_settings

from propdesk.testing.platform_contract import PlatformContract
from propdesk_mt5.adapter import MT5Platform
from propdesk_mt5.simulator import RunningSimulator


class TestMT5Platform(PlatformContract):
    @pytest.fixture
    async def harness(
        self, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[MT5Harness]:
        monkeypatch.setenv(PASSWORD_ENV, sim.manager[1])
        harness = MT5Harness(sim, MT5Platform(adapter_settings(sim)))
        await harness.set_price(harness.symbol, harness.price)
        yield harness
