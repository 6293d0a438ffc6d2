"""A local MT5 Web API server for tests, demos and vendors' staging: the real wire surface
(challenge-response auth, ``/api/...`` commands, string numbers, retcodes) over a seeded market,
plus a control API under ``/__sim__/`` and simulated traders.

    with running_simulator(SimulatorConfig()) as sim:
        await sim.control.set_prices({"EURUSD": "1.08500"})
        ...  # talk MT5 Web API to sim.url
"""

from propdesk_mt5.simulator.control import SimulatorControl
from propdesk_mt5.simulator.core import DEFAULT_GROUPS, Simulator, SimulatorConfig
from propdesk_mt5.simulator.market import DEFAULT_SYMBOLS, SymbolSpec
from propdesk_mt5.simulator.server import RunningSimulator, create_app, running_simulator
from propdesk_mt5.simulator.traders import PROFILES, RemoteTrader, TraderProfile

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SYMBOLS",
    "PROFILES",
    "RemoteTrader",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "SimulatorControl",
    "SymbolSpec",
    "TraderProfile",
    "create_app",
    "running_simulator",
]
