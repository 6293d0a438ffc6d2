"""Simulated traders, and the simulator as a command."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from decimal import Decimal

import httpx
from mt5kit import Wire

from propdesk_mt5.simulator import (
    PROFILES,
    RemoteTrader,
    RunningSimulator,
    SimulatorConfig,
    TraderProfile,
    running_simulator,
)

#: The market's default pace: a bound in ticks is this many simulated seconds per tick.
DEFAULT_TICK_SECONDS = 0.25


async def _equity(sim: RunningSimulator, login: int) -> Decimal:
    return Decimal((await sim.control.account(login))["account"]["Equity"])


def test_profiles_are_data() -> None:
    assert set(PROFILES) == {"steady", "gambler", "breacher", "passer"}
    assert all(type(p) is TraderProfile for p in PROFILES.values())
    assert PROFILES["breacher"].direction == "against" and PROFILES["passer"].direction == "with"


async def test_a_breacher_loses_five_percent_within_minutes(
    sim: RunningSimulator, wire: Wire
) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "100000")
    await sim.control.start_trader(login, "breacher", seed=11)
    await sim.control.market(running=True, tick_seconds=0.005)
    breached_at = None
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            if await _equity(sim, login) < Decimal(95_000):
                breached_at = (await sim.control.market_state())["ticks"]
                break
            await asyncio.sleep(0.02)
    finally:
        await sim.control.market(running=False)
    assert breached_at is not None, "the breacher never lost 5%"
    assert breached_at * DEFAULT_TICK_SECONDS <= 180  # within three minutes of market time
    deals = (await sim.control.snapshot())["deals"]
    trades = [d for d in deals if d["Login"] == str(login) and d["Symbol"]]
    assert trades and all(d["Reason"] in ("0", "5") for d in trades)
    (trader,) = await sim.control.traders()
    assert trader["profile"] == "breacher" and trader["orders"] >= 1


async def test_a_passer_gains_ten_percent_then_stops(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "100000")
    await sim.control.start_trader(login, "passer", seed=3)
    for _ in range(12):
        await sim.control.step(500)
        if await _equity(sim, login) >= Decimal(110_000):
            break
    assert await _equity(sim, login) >= Decimal(110_000)
    view = await sim.control.account(login)
    assert view["positions"] == [] and view["trader"] == "passer"
    await sim.control.step(200)
    assert (await sim.control.account(login))["positions"] == []  # done trading


async def test_traders_respect_trade_rights(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "100000")
    await wire.post("user/update", {"Rights": "359"}, login=login)
    await sim.control.start_trader(login, "gambler", seed=1)
    await sim.control.step(200)
    assert (await sim.control.account(login))["positions"] == []
    assert await sim.control.stop_trader(login) is True
    assert await sim.control.traders() == []


async def test_a_remote_trader_drives_the_control_api(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "100000")
    trader = RemoteTrader(sim.control, login, "breacher", seed=5, interval=0.01)
    results = await trader.step()
    assert [r["retcode"] for r in results] == ["10009 Request executed"]
    prices = await sim.control.prices()
    (position,) = (await sim.control.account(login))["positions"]
    trend = prices[position["Symbol"]]["trend"]
    assert trend != 0 and position["Action"] == ("1" if trend > 0 else "0")  # against the trend
    stop = asyncio.Event()
    task = asyncio.create_task(trader.run(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_auto_traders_attach_to_new_accounts() -> None:
    with running_simulator(SimulatorConfig(traders_auto=True)) as sim:
        wire = Wire(sim.url)
        try:
            assert (await wire.login())["retcode"] == "0 Done"
            logins = [await wire.add_user() for _ in range(5)]
            traders = await sim.control.traders()
            assert [t["login"] for t in traders] == logins
            assert [t["profile"] for t in traders] == [
                "steady",
                "gambler",
                "breacher",
                "passer",
                "steady",
            ]
        finally:
            await wire.aclose()
            await sim.control.aclose()


async def test_python_dash_m_serves_until_terminated() -> None:
    command = [sys.executable, "-m", "propdesk_mt5.simulator", "--port", "0", "--no-market"]
    command += ["--manager", "2000:Strong#Pass1", "--timezone", "+03:00"]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.fullmatch(
            r"MT5 simulator listening on (http://127\.0\.0\.1:\d+) \(manager 2000\)\n", line
        )
        assert match, line
        url = match.group(1)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/__sim__/health")).json()["status"] == "ok"
        wire = Wire(url)
        try:
            assert (await wire.login(2000, "Strong#Pass1"))["retcode"] == "0 Done"
            assert (await wire.get("time/get"))["answer"]["TimeZone"] == "180"
        finally:
            await wire.aclose()
    finally:
        if process.returncode is None:
            process.terminate()
        code = await asyncio.wait_for(process.wait(), 15)
    assert code == 0
