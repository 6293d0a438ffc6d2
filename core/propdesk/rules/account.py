"""The facts every rule shares: balance, equity and open positions, kept from the events.

The platform is the source of truth: a snapshot sets balance and equity outright. Between
snapshots a deal moves the balance by its net result and the equity by its commission (the
floating result it realises was already in the equity); a flat account's equity is its balance.

A balance operation (a deposit, or a withdrawal such as a payout) moves balance and equity by
its amount and adds up in ``balance_operations``: it is money in or out, never a trading result,
so ``realized`` and ``profit`` do not see it. A profit target moves its level with it and the
daily loss its day-start anchors; a maximum-loss floor stays where the contract puts it (a payout
uses up headroom: E8, FTMO).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Event, Snapshot
from propdesk.rules.money import ZERO


@dataclass(slots=True)
class OpenPosition:
    symbol: str
    side: str
    volume: Decimal
    opened_at: datetime
    #: Net result of the position's deals so far (profit + commission + swap).
    net: Decimal = ZERO


@dataclass(slots=True)
class Account:
    initial_balance: Decimal = ZERO
    balance: Decimal = ZERO
    equity: Decimal = ZERO
    opened_at: datetime | None = None
    #: Net result of all closed deals (profit + commission + swap), without balance operations.
    realized: Decimal = ZERO
    #: Net of every balance operation so far (deposits positive, withdrawals negative).
    balance_operations: Decimal = ZERO
    #: Profit a rule excluded from the objectives (e.g. trades in a news window).
    excluded_profit: Decimal = ZERO
    open_lots: Decimal = ZERO
    positions: dict[str, OpenPosition] = field(default_factory=dict)
    #: The position the last deal closed completely, with its final net result.
    closed: tuple[str, OpenPosition] | None = None

    @property
    def flat(self) -> bool:
        return not self.positions

    @property
    def profit(self) -> Decimal:
        """Closed-balance profit counted towards objectives."""
        return self.realized - self.excluded_profit

    def apply(self, event: Event) -> None:
        if isinstance(event, Snapshot):
            self.balance = event.balance
            self.equity = event.equity
        elif isinstance(event, Deal):
            self._deal(event)
        elif isinstance(event, BalanceOperation):
            self.balance += event.amount
            self.equity += event.amount
            self.balance_operations += event.amount
        elif isinstance(event, AccountOpened):
            self.initial_balance = self.balance = self.equity = event.balance
            self.opened_at = event.time

    def _deal(self, deal: Deal) -> None:
        net = deal.net
        self.balance += net
        self.realized += net
        self.equity += deal.commission
        self.closed = None
        position = self.positions.get(deal.position)
        if deal.entry == "in":
            if position is None:
                position = self.positions[deal.position] = OpenPosition(
                    deal.symbol, deal.side, ZERO, deal.time
                )
            position.volume += deal.volume
            position.net += net
            self.open_lots += deal.volume
        elif position is not None:
            closing = min(deal.volume, position.volume)
            position.volume -= closing
            position.net += net
            self.open_lots -= closing
            if position.volume <= 0:
                del self.positions[deal.position]
                self.closed = (deal.position, position)
        if not self.positions:
            self.equity = self.balance
