"""``MT5Simulator``: the simulator under the core's simulator contract (``propdesk.simulators``),
for ``propdesk demo`` and ``propdesk chaos``: a desk's MT5 server with its groups, a market and
simulated traders."""

from __future__ import annotations

import zlib
from contextlib import AbstractContextManager
from typing import ClassVar

from propdesk.simulators import DeskSettings, ServedSimulator
from propdesk_mt5.simulator.core import DEFAULT_GROUPS, SimulatorConfig
from propdesk_mt5.simulator.server import RunningSimulator, running_simulator

#: The market's usual pace (``SimulatorConfig.tick_seconds``).
TICK_SECONDS = SimulatorConfig.tick_seconds


class MT5Simulator(ServedSimulator[RunningSimulator]):
    code: ClassVar[str] = "mt5"
    display_name: ClassVar[str] = "MetaTrader 5 Web API"
    plugin: ClassVar[str] = "mt5"
    platform: ClassVar[str] = "mt5"

    def serve(self) -> AbstractContextManager[RunningSimulator]:
        speed = self.setup.market_speed
        config = SimulatorConfig(
            groups=self.setup.groups or DEFAULT_GROUPS,
            market_running=speed > 0,
            tick_seconds=TICK_SECONDS / speed if speed > 0 else TICK_SECONDS,
            # Each desk's market takes its own path, the same on every run.
            seed=zlib.crc32(self.setup.desk.encode()) % 10_000,
        )
        return running_simulator(config)

    def desk_settings(self) -> DeskSettings:
        login, password = self.running.manager
        config = self.running.simulator.config
        name = self.env_name("MT5_PASSWORD")
        settings = {
            "server": self.url,
            "manager_login": login,
            "password": {"env": name},
            "server_timezone": config.server_timezone,
            "server_name": config.server_name,
        }
        return DeskSettings(settings, {name: password})

    async def start_trader(self, login: str, profile: str) -> None:
        await self.running.control.start_trader(int(login), profile)
