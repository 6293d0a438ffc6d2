"""Symbols, quotes and a seeded price process: a random walk whose drift follows per-symbol trend
regimes (up, flat, down) that switch now and then, so simulated traders can trade with or
against a trend."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator.records import Refusal


@dataclass(frozen=True)
class SymbolSpec:
    name: str
    digits: int
    contract_size: Decimal
    spread_points: int
    start_bid: Decimal
    #: Relative standard deviation of one tick's move.
    volatility: float

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)


#: All quoted in USD, so profit on a USD account needs no conversion.
DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    SymbolSpec("EURUSD", 5, Decimal(100_000), 10, Decimal("1.08500"), 0.00004),
    SymbolSpec("GBPUSD", 5, Decimal(100_000), 15, Decimal("1.27000"), 0.00005),
    SymbolSpec("AUDUSD", 5, Decimal(100_000), 12, Decimal("0.66000"), 0.00005),
    SymbolSpec("XAUUSD", 2, Decimal(100), 30, Decimal("2350.00"), 0.00008),
    SymbolSpec("US30", 1, Decimal(1), 20, Decimal("39000.0"), 0.00007),
)

#: Drift in a trend regime, as a fraction of the symbol's tick volatility.
TREND_STRENGTH = 0.25
#: Chance per tick that a symbol's regime switches (about every 150 s at 0.25 s ticks).
SWITCH_CHANCE = 1 / 600


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    digits: int
    contract_size: Decimal
    #: The trend regime: 1 up, 0 flat, -1 down.
    trend: int


class Market:
    """Prices of the symbols; ``tick`` moves them one step."""

    def __init__(self, symbols: Iterable[SymbolSpec] = DEFAULT_SYMBOLS, seed: int = 7) -> None:
        self.specs = {spec.name: spec for spec in symbols}
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.seed = seed
        self.ticks = 0
        self._rng = random.Random(seed)
        self._bids = {name: spec.start_bid for name, spec in self.specs.items()}
        self._trends = {name: self._rng.choice((-1, 1)) for name in self.specs}

    def reseed(self, seed: int) -> None:
        """Continue from the current prices with a new random sequence."""
        self.seed = seed
        self._rng = random.Random(seed)

    def spec(self, symbol: str) -> SymbolSpec:
        spec = self.specs.get(symbol)
        if spec is None:
            raise Refusal(Retcode.REQUEST_PRICE_OFF, f"no prices for {symbol!r}")
        return spec

    def quote(self, symbol: str) -> Quote:
        spec = self.spec(symbol)
        bid = self._bids[symbol]
        return Quote(
            symbol=symbol,
            bid=bid,
            ask=bid + spec.point * spec.spread_points,
            digits=spec.digits,
            contract_size=spec.contract_size,
            trend=self._trends[symbol],
        )

    def quotes(self) -> list[Quote]:
        return [self.quote(name) for name in self.specs]

    def set_bid(self, symbol: str, bid: Decimal) -> None:
        spec = self.spec(symbol)
        if bid <= 0:
            raise Refusal(Retcode.ERR_PARAMS, f"{symbol} bid must be positive")
        self._bids[symbol] = bid.quantize(spec.point, rounding=ROUND_HALF_UP)

    def set_trend(self, symbol: str, trend: int) -> None:
        self.spec(symbol)
        if trend not in (-1, 0, 1):
            raise Refusal(Retcode.ERR_PARAMS, "trend is -1, 0 or 1")
        self._trends[symbol] = trend

    def tick(self) -> None:
        rng = self._rng
        for name, spec in self.specs.items():
            if rng.random() < SWITCH_CHANCE:
                self._trends[name] = rng.choice([t for t in (-1, 0, 1) if t != self._trends[name]])
            sigma = spec.volatility
            step = self._trends[name] * TREND_STRENGTH * sigma + rng.gauss(0.0, sigma)
            bid = float(self._bids[name]) * math.exp(step)
            floor = float(spec.point * 10)
            self._bids[name] = Decimal(repr(max(bid, floor))).quantize(
                spec.point, rounding=ROUND_HALF_UP
            )
        self.ticks += 1
