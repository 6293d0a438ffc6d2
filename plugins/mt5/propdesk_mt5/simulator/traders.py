"""Simulated traders: a profile (data) drives a small seeded decision loop that opens and closes
market positions like a trader's terminal would, either inside the simulator (``TraderPool``,
one decision every few market ticks) or against a remote one (``RemoteTrader``)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from propdesk_mt5.protocol import DealReason, to_volume
from propdesk_mt5.simulator.records import Refusal
from propdesk_mt5.simulator.rules import may_trade

if TYPE_CHECKING:
    from propdesk_mt5.simulator.control import SimulatorControl
    from propdesk_mt5.simulator.core import Simulator


@dataclass(frozen=True)
class TraderProfile:
    name: str
    #: A new position's notional as a multiple of equity (drawn uniformly).
    exposure: tuple[float, float]
    #: "with" or "against" the symbol's trend regime, or "random".
    direction: str
    #: Chance per decision of opening a position while below ``max_positions``.
    open_chance: float
    max_positions: int
    #: Close a position at this profit / loss, as a fraction of the baseline equity.
    take_profit: float | None
    stop_loss: float | None
    #: Close a position after this many decisions (0: no limit).
    max_hold: int
    #: Close positions the trend no longer supports (and, with exit_on_flat, a flat trend).
    follow_trend: bool = False
    exit_on_flat: bool = False
    #: Stop trading once equity is this much above the baseline.
    target_gain: float | None = None
    #: Market ticks between decisions.
    decide_every: int = 4


PROFILES: dict[str, TraderProfile] = {
    p.name: p
    for p in (
        TraderProfile("steady", (0.3, 1.0), "random", 0.03, 1, 0.002, 0.002, 120, decide_every=8),
        TraderProfile("gambler", (3.0, 20.0), "random", 0.2, 3, 0.03, 0.04, 300),
        TraderProfile("breacher", (25.0, 40.0), "against", 1.0, 2, None, None, 0, True, False),
        TraderProfile(
            "passer", (2.0, 4.0), "with", 0.3, 2, 0.01, 0.008, 0, True, True, target_gain=0.10
        ),
    )
}
AUTO_ORDER = ("steady", "gambler", "breacher", "passer")


@dataclass(frozen=True)
class QuoteView:
    bid: Decimal
    ask: Decimal
    contract_size: Decimal
    trend: int


@dataclass(frozen=True)
class PositionView:
    ticket: int
    symbol: str
    side: int
    profit: Decimal


@dataclass(frozen=True)
class AccountView:
    equity: Decimal
    margin_free: Decimal
    leverage: int
    can_trade: bool
    #: Net of balance operations: when it changes, the trader starts a new baseline.
    balance_ops: Decimal
    positions: tuple[PositionView, ...]


@dataclass(frozen=True)
class Open:
    symbol: str
    side: int
    lots: Decimal


@dataclass(frozen=True)
class Close:
    position: int


@dataclass
class TraderBrain:
    """The decision loop's memory; ``decide`` is pure apart from the seeded rng."""

    profile: TraderProfile
    seed: int
    rng: random.Random = field(init=False)
    baseline: Decimal | None = None
    balance_ops: Decimal | None = None
    ages: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def decide(self, account: AccountView, quotes: Mapping[str, QuoteView]) -> list[Open | Close]:
        if not account.can_trade or account.equity <= 0:
            return []
        if self.baseline is None or account.balance_ops != self.balance_ops:
            self.baseline, self.balance_ops = account.equity, account.balance_ops
        profile, baseline = self.profile, self.baseline
        done = profile.target_gain is not None and account.equity >= baseline * Decimal(
            1 + profile.target_gain
        )
        actions: list[Open | Close] = []
        self.ages = {p.ticket: self.ages.get(p.ticket, 0) + 1 for p in account.positions}
        for position in account.positions:
            if done or self._should_close(position, quotes[position.symbol], baseline):
                actions.append(Close(position.ticket))
        if done:
            return actions
        open_now = len(account.positions) - len(actions)
        if open_now < profile.max_positions and self.rng.random() < profile.open_chance:
            order = self._open(account, quotes)
            if order is not None:
                actions.append(order)
        return actions

    def _wanted_side(self, trend: int) -> int | None:
        direction = self.profile.direction
        if direction == "random":
            return self.rng.choice((0, 1))
        if not trend:
            return None
        along = 0 if trend > 0 else 1
        return along if direction == "with" else 1 - along

    def _should_close(self, position: PositionView, quote: QuoteView, baseline: Decimal) -> bool:
        profile = self.profile
        ratio = float(position.profit / baseline)
        if profile.take_profit is not None and ratio >= profile.take_profit:
            return True
        if profile.stop_loss is not None and ratio <= -profile.stop_loss:
            return True
        if profile.max_hold and self.ages.get(position.ticket, 0) >= profile.max_hold:
            return True
        if profile.follow_trend and profile.direction != "random":
            if not quote.trend:
                return profile.exit_on_flat
            return self._wanted_side(quote.trend) != position.side
        return False

    def _open(self, account: AccountView, quotes: Mapping[str, QuoteView]) -> Open | None:
        names = sorted(quotes)
        if self.profile.direction != "random":
            names = [name for name in names if quotes[name].trend] or names
        symbol = self.rng.choice(names)
        quote = quotes[symbol]
        side = self._wanted_side(quote.trend)
        if side is None:
            side = self.rng.choice((0, 1))
        notional = Decimal(self.rng.uniform(*self.profile.exposure)) * account.equity
        notional = min(notional, account.margin_free * Decimal("0.9") * account.leverage)
        price = quote.ask if side == 0 else quote.bid
        lots = (notional / (price * quote.contract_size)).quantize(
            Decimal("0.01"), rounding=ROUND_DOWN
        )
        return Open(symbol, side, min(lots, Decimal(1000))) if lots >= Decimal("0.01") else None


class LocalTrader:
    """A trader inside the simulator process: decides on market ticks, trades on the book."""

    def __init__(self, sim: Simulator, login: int, profile: TraderProfile, seed: int) -> None:
        self.sim, self.login, self.profile, self.seed = sim, login, profile, seed
        self.brain = TraderBrain(profile, seed)
        self.ticks = self.orders = self.closes = self.refusals = 0
        self.last_refusal = ""

    def on_tick(self) -> None:
        self.ticks += 1
        if self.ticks % self.profile.decide_every:
            return
        book = self.sim.book
        user = book.users[self.login]
        state = book.state(self.login)
        positions = tuple(
            PositionView(p.ticket, p.symbol, p.action, book.valuation(p)[1])
            for p in sorted(book.positions_of(self.login), key=lambda p: p.ticket)
        )
        ops = book.balance_ops.get(self.login, Decimal(0))
        account = AccountView(
            state.equity, state.margin_free, user.leverage, may_trade(user.rights), ops, positions
        )
        quotes = {
            q.symbol: QuoteView(q.bid, q.ask, q.contract_size, q.trend)
            for q in self.sim.market.quotes()
        }
        for action in self.brain.decide(account, quotes):
            try:
                if isinstance(action, Close):
                    book.close(action.position, reason=DealReason.CLIENT, login=self.login)
                    self.closes += 1
                else:
                    side, volume = action.side, to_volume(action.lots)
                    book.open(self.login, action.symbol, side, volume, reason=DealReason.CLIENT)
                    self.orders += 1
            except Refusal as refusal:
                self.refusals += 1
                self.last_refusal = str(refusal.retcode)

    def wire(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "profile": self.profile.name,
            "seed": self.seed,
            "ticks": self.ticks,
            "orders": self.orders,
            "closes": self.closes,
            "refusals": self.refusals,
            "last_refusal": self.last_refusal,
        }


class TraderPool:
    """The simulator's own traders, one per login, run on each market tick."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.traders: dict[int, LocalTrader] = {}
        self._auto = 0
        sim.on_tick.append(self.on_tick)

    def start(self, login: int, profile: str, seed: int | None = None) -> LocalTrader:
        chosen = PROFILES.get(profile)
        if chosen is None:
            raise ValueError(f"profile is one of {', '.join(PROFILES)}")
        with self.sim.lock:
            self.sim.book.user(login)
            seed = self.sim.config.seed + login if seed is None else seed
            trader = LocalTrader(self.sim, login, chosen, seed)
            self.traders[login] = trader
            return trader

    def attach_auto(self, login: int) -> LocalTrader:
        profile = AUTO_ORDER[self._auto % len(AUTO_ORDER)]
        self._auto += 1
        return self.start(login, profile)

    def stop(self, login: int) -> bool:
        with self.sim.lock:
            return self.traders.pop(login, None) is not None

    def stop_all(self) -> None:
        with self.sim.lock:
            self.traders.clear()
            self._auto = 0

    def on_tick(self) -> None:
        for login, trader in list(self.traders.items()):
            if login not in self.sim.book.users:
                del self.traders[login]
            else:
                trader.on_tick()

    def wire(self) -> list[dict[str, Any]]:
        with self.sim.lock:
            return [t.wire() for _, t in sorted(self.traders.items())]


class RemoteTrader:
    """The same decision loop driving a simulator in another process through its control API."""

    def __init__(
        self,
        control: SimulatorControl,
        login: int,
        profile: str | TraderProfile,
        seed: int = 7,
        interval: float = 1.0,
    ) -> None:
        self.control, self.login, self.interval = control, login, interval
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.brain = TraderBrain(self.profile, seed)

    async def step(self) -> list[dict[str, Any]]:
        """One decision: read the account and prices, then send the orders."""
        prices = await self.control.prices()
        view = await self.control.account(self.login)
        quotes = {
            name: QuoteView(
                Decimal(q["bid"]), Decimal(q["ask"]), Decimal(q["contract_size"]), int(q["trend"])
            )
            for name, q in prices.items()
        }
        state = view["account"]
        positions = tuple(
            PositionView(int(p["Position"]), p["Symbol"], int(p["Action"]), Decimal(p["Profit"]))
            for p in view["positions"]
        )
        account = AccountView(
            Decimal(state["Equity"]),
            Decimal(state["MarginFree"]),
            int(view["user"]["Leverage"]),
            bool(view["can_trade"]),
            Decimal(view["balance_ops"]),
            positions,
        )
        results = []
        for action in self.brain.decide(account, quotes):
            if isinstance(action, Close):
                results.append(await self.control.close_position(self.login, action.position))
            else:
                side = "buy" if action.side == 0 else "sell"
                order = self.control.open_order(self.login, action.symbol, side, action.lots)
                results.append(await order)
        return results

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            await self.step()
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass
