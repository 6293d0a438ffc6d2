"""The simulator's configuration and its hub: clock, market, book, dealer desk, sessions,
faults, request log and simulated traders, with one lock around every mutation."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from propdesk_mt5.protocol import IDLE_TIMEOUT_SECONDS, ServerTime
from propdesk_mt5.simulator.book import Book
from propdesk_mt5.simulator.dealer import DealerDesk
from propdesk_mt5.simulator.faults import Faults, RequestLog
from propdesk_mt5.simulator.market import DEFAULT_SYMBOLS, Market, SymbolSpec
from propdesk_mt5.simulator.records import Group, User
from propdesk_mt5.simulator.sessions import Sessions
from propdesk_mt5.simulator.traders import TraderPool

DEFAULT_GROUPS = ("demo\\challenge-phase1", "demo\\challenge-phase2", "real\\funded")


@dataclass
class SimulatorConfig:
    managers: dict[int, str] = field(default_factory=lambda: {1000: "Manager#1"})
    groups: tuple[str, ...] = DEFAULT_GROUPS
    currency: str = "USD"
    stopout: Decimal = Decimal(50)
    commission_per_lot: Decimal = Decimal(0)
    server_timezone: str = "+02:00"
    first_login: int = 500_000
    market_running: bool = False
    tick_seconds: float = 0.25
    seed: int = 7
    host: str = "127.0.0.1"
    port: int = 0
    server_name: str = "Propdesk-Demo"
    certfile: str | None = None
    keyfile: str | None = None
    auth_window_seconds: float = 10.0
    idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS
    #: Attach a simulated trader (profiles in turn) to every account created.
    traders_auto: bool = False
    #: Also issue an ``MT5Session`` cookie at ``auth/start`` (real servers may; unverified).
    issue_cookies: bool = False
    #: Dealer requests nobody polls are executed after this many seconds on a market tick.
    dealer_delay_seconds: float = 1.0
    request_log_size: int = 10_000
    symbols: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS


class Clock:
    """Real UTC time plus an offset that tests advance."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.lock = threading.RLock()
        self.server_time = ServerTime(self.config.server_timezone)
        self.clock = Clock()
        self.market = Market(self.config.symbols, self.config.seed)
        self.sessions = Sessions(self.config.auth_window_seconds, self.config.idle_timeout_seconds)
        self.faults = Faults()
        self.log = RequestLog(self.config.request_log_size)
        self.running = self.config.market_running
        self.tick_seconds = self.config.tick_seconds
        self.on_tick: list[Callable[[], None]] = []
        self.book = self._new_book()
        self.dealer = DealerDesk(self.book)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self.traders = TraderPool(self)
        self.reset()

    def _new_book(self) -> Book:
        return Book(self.market, self.server_msc, self.config.first_login)

    def reset(self) -> None:
        """Everything but the configuration forgotten."""
        with self.lock:
            config = self.config
            self.traders.stop_all()
            self.clock = Clock()
            self.market.reset(config.seed)
            self.running = config.market_running
            self.tick_seconds = config.tick_seconds
            self.book = self._new_book()
            self.book.on_user_added.append(self._user_added)
            self.dealer = DealerDesk(self.book)
            self.sessions.reset()
            for login, password in config.managers.items():
                self.add_manager(login, password)
            for name in config.groups:
                self.book.add_group(
                    Group(
                        name,
                        config.currency,
                        stopout=Decimal(config.stopout),
                        commission_per_lot=Decimal(config.commission_per_lot),
                    )
                )
            self.faults.clear()
            self.log.clear()
            self.book.roll_day(self.server_seconds())

    def add_manager(self, login: int, password: str) -> None:
        with self.lock:
            self.sessions.add_manager(login, password)
            self.book.reserved_logins.add(login)

    def _user_added(self, user: User) -> None:
        if self.config.traders_auto:
            self.traders.attach_auto(user.login)

    # time

    def server_msc(self) -> int:
        return self.server_time.from_utc_msc(self.clock.now())

    def server_seconds(self) -> int:
        return self.server_time.from_utc(self.clock.now())

    def offset_minutes(self) -> int:
        return int(self.server_time.offset(self.clock.now()).total_seconds() // 60)

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock.advance(seconds)
            self.touch()

    def touch(self) -> None:
        """Whatever is due at the current time: the server's day rollover."""
        self.book.roll_day(self.server_seconds())

    # the market

    def tick(self, count: int = 1) -> None:
        for _ in range(count):
            with self.lock:
                self.touch()
                self.market.tick()
                self.after_prices()
                for listener in list(self.on_tick):
                    listener()

    def after_prices(self) -> None:
        """Prices moved: stop-outs, and dealer requests nobody polled."""
        self.book.check_stop_outs()
        self.dealer.execute_due(self.clock.timestamp(), self.config.dealer_delay_seconds)

    def set_market(self, running: bool | None, tick_seconds: float | None) -> None:
        with self.lock:
            if running is not None:
                self.running = running
            if tick_seconds is not None:
                self.tick_seconds = max(tick_seconds, 0.001)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        """Runs the market in the server's event loop."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run_market(), name="mt5-sim-market")

    async def stop(self) -> None:
        self.traders.stop_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._loop = None

    async def _run_market(self) -> None:
        while True:
            if self.running:
                self.tick()
                delay = self.tick_seconds
            else:
                delay = 1.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
