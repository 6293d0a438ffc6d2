"""The trading state of a simulated trade server: groups, users, positions, deals, balance
operations, margin and stop-out. Pure and in memory; the server holds a lock around it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from propdesk_mt5.protocol import (
    MAX_BALANCE_OPERATION,
    DealAction,
    DealEntry,
    DealReason,
    PositionAction,
    Retcode,
)
from propdesk_mt5.simulator.market import Market, Quote
from propdesk_mt5.simulator.records import AccountState, Deal, Group, Position, Refusal, User, money
from propdesk_mt5.simulator.registry import Registry
from propdesk_mt5.simulator.rules import (
    FIRST_DEAL,
    FIRST_ORDER,
    MANAGER_BALANCE_TYPES,
    VOLUME_MAX,
    VOLUME_STEP,
    may_trade,
)


@dataclass(frozen=True)
class Fill:
    """A trade executed: its deal, and the position it opened or changed."""

    deal: Deal
    position: Position
    quote: Quote


class Book(Registry):
    """Accounts (``Registry``) plus their money and trading."""

    def __init__(self, market: Market, now_msc: Callable[[], int], first_login: int) -> None:
        super().__init__(now_msc, first_login)
        self.market = market
        self.positions: dict[int, Position] = {}
        self._by_login: dict[int, dict[int, Position]] = {}
        self.deals: list[Deal] = []
        self.deal_index: dict[int, Deal] = {}
        #: Net of each account's balance operations (what simulated traders watch).
        self.balance_ops: dict[int, Decimal] = {}
        self._next_deal = FIRST_DEAL
        self._next_order = FIRST_ORDER
        self._day: int | None = None

    # money

    def balance(
        self,
        login: int,
        action: int,
        amount: Decimal,
        comment: str,
        *,
        check_margin: bool = True,
        dealer: int = 0,
    ) -> Deal:
        user = self.user(login)
        if action not in MANAGER_BALANCE_TYPES or not amount:
            raise Refusal(Retcode.ERR_PARAMS, "type or amount")
        if abs(amount) > MAX_BALANCE_OPERATION:
            raise Refusal(Retcode.TRADE_MAX_MONEY)
        amount = money(amount)
        if check_margin and amount < 0:
            state = self.state(login)
            pool = user.credit if action == DealAction.CREDIT else user.balance
            if -amount > pool or -amount > state.margin_free:
                raise Refusal(Retcode.REQUEST_NO_MONEY)
        deal = self._deal(
            login=login,
            action=action,
            dealer=dealer,
            reason=DealReason.DEALER,
            profit=amount,
            comment=comment,
        )
        self.balance_ops[login] = self.balance_ops.get(login, Decimal(0)) + amount
        if action == DealAction.CREDIT:
            user.credit += amount
        else:
            user.balance += amount
        self.check_stop_out(login)
        return deal

    # trading

    def positions_of(self, login: int) -> list[Position]:
        return list(self._by_login.get(login, {}).values())

    def has_positions(self, login: int) -> bool:
        return bool(self._by_login.get(login))

    def valuation(self, position: Position) -> tuple[Decimal, Decimal, Decimal]:
        """The position's current price, profit and margin price at the market's quotes."""
        quote = self.market.quote(position.symbol)
        if position.action == PositionAction.BUY:
            price, diff, margin_price = quote.bid, quote.bid - position.price_open, quote.ask
        else:
            price, diff, margin_price = quote.ask, position.price_open - quote.ask, quote.bid
        return price, money(diff * position.lots * position.contract_size), margin_price

    def state(self, login: int) -> AccountState:
        user = self.user(login)
        profit = storage = margin = Decimal(0)
        for position in self.positions_of(login):
            _, pnl, margin_price = self.valuation(position)
            profit += pnl
            storage += position.storage
            margin += position.lots * position.contract_size * margin_price / user.leverage
        return AccountState(
            login=login,
            balance=user.balance,
            credit=user.credit,
            profit=profit,
            storage=storage,
            margin=money(margin),
            leverage=user.leverage,
        )

    def open(
        self,
        login: int,
        symbol: str,
        action: int,
        volume: int,
        *,
        reason: int,
        dealer: int = 0,
        check_rights: bool = True,
        comment: str = "",
    ) -> Fill:
        user = self.user(login)
        if check_rights and not may_trade(user.rights):
            raise Refusal(Retcode.REQUEST_TRADE_DISABLED)
        quote = self.market.quote(symbol)
        if action not in (PositionAction.BUY, PositionAction.SELL):
            raise Refusal(Retcode.REQUEST_INVALID, "type")
        self._check_volume(volume, VOLUME_MAX)
        price = quote.ask if action == PositionAction.BUY else quote.bid
        lots = Decimal(volume) / 10_000
        commission = self._commission(user, lots)
        state = self.state(login)
        needed = money(lots * quote.contract_size * price / user.leverage)
        if state.margin_free + commission - needed < 0:
            raise Refusal(Retcode.REQUEST_NO_MONEY)
        order = self._order()
        now = self.now_msc()
        position = Position(
            ticket=order,
            login=login,
            symbol=symbol,
            action=action,
            volume=volume,
            price_open=price,
            digits=quote.digits,
            contract_size=quote.contract_size,
            time_create_msc=now,
            time_update_msc=now,
            reason=reason,
            comment=comment,
        )
        deal = self._deal(
            login=login,
            action=action,
            dealer=dealer,
            order=order,
            entry=DealEntry.IN,
            reason=reason,
            quote=quote,
            price=price,
            volume=volume,
            commission=commission,
            position_id=order,
            price_position=price,
            comment=comment,
        )
        self.positions[order] = position
        self._by_login.setdefault(login, {})[order] = position
        user.balance += commission
        user.traded = True
        user.so_activation = 0 if user.so_activation == 2 else user.so_activation
        return Fill(deal, position, quote)

    def close(
        self,
        ticket: int,
        volume: int = 0,
        *,
        reason: int,
        dealer: int = 0,
        check_rights: bool = True,
        login: int | None = None,
        comment: str = "",
    ) -> Fill:
        position = self.positions.get(ticket)
        if position is None or (login is not None and position.login != login):
            raise Refusal(Retcode.REQUEST_INVALID, f"no position {ticket}")
        user = self.user(position.login)
        if check_rights and not may_trade(user.rights):
            raise Refusal(Retcode.REQUEST_TRADE_DISABLED)
        volume = volume or position.volume
        self._check_volume(volume, position.volume)
        quote = self.market.quote(position.symbol)
        price, _, _ = self.valuation(position)
        lots = Decimal(volume) / 10_000
        sign = 1 if position.action == PositionAction.BUY else -1
        profit = money((price - position.price_open) * sign * lots * position.contract_size)
        commission = self._commission(user, lots)
        deal = self._deal(
            login=position.login,
            action=1 - position.action,
            dealer=dealer,
            order=self._order(),
            entry=DealEntry.OUT,
            reason=reason,
            quote=quote,
            price=price,
            volume=volume,
            volume_closed=volume,
            profit=profit,
            commission=commission,
            position_id=position.ticket,
            price_position=position.price_open,
            comment=comment,
        )
        user.balance += profit + commission
        position.volume -= volume
        position.time_update_msc = deal.time_msc
        if not position.volume:
            del self.positions[ticket]
            del self._by_login[position.login][ticket]
        return Fill(deal, position, quote)

    def check_stop_out(self, login: int) -> list[Deal]:
        """Closes the most losing position while the margin level is below the stop-out."""
        user = self.user(login)
        group = self.group(user.group) or Group(user.group)
        closed: list[Deal] = []
        while True:
            state = self.state(login)
            if not state.margin:
                return closed
            level = state.margin_level
            if level >= group.stopout:
                # A stop-out stays on record until the account trades again.
                if user.so_activation != 2:
                    user.so_activation = 1 if level < group.margin_call else 0
                return closed
            if not closed:
                user.so_activation = 2
                user.so_time = self.now_msc() // 1000
                user.so_level, user.so_equity, user.so_margin = level, state.equity, state.margin
            worst = min(self.positions_of(login), key=lambda p: (self.valuation(p)[1], p.ticket))
            fill = self.close(worst.ticket, reason=DealReason.SO, check_rights=False)
            closed.append(fill.deal)

    def check_stop_outs(self) -> list[Deal]:
        closed: list[Deal] = []
        for login in sorted(login for login, held in self._by_login.items() if held):
            closed.extend(self.check_stop_out(login))
        return closed

    def roll_day(self, server_seconds: int) -> None:
        """At the server's midnight, keeps each account's balance and equity of the day."""
        day = server_seconds // 86_400
        if self._day is None:
            self._day = day
        if day <= self._day:
            return
        before, after = _date(self._day), _date(day)
        new_month = (before.year, before.month) != (after.year, after.month)
        for login, user in self.users.items():
            equity = self.state(login).equity
            user.balance_prev_day, user.equity_prev_day = user.balance, equity
            if new_month:
                user.balance_prev_month, user.equity_prev_month = user.balance, equity
        self._day = day

    def deals_of(self, logins: Iterable[int], since: int, until: int) -> list[Deal]:
        wanted = set(logins)
        return [d for d in self.deals if d.login in wanted and since <= d.time <= until]

    # helpers

    def _check_volume(self, volume: int, limit: int) -> None:
        if volume <= 0 or volume % VOLUME_STEP or volume > limit:
            raise Refusal(Retcode.REQUEST_INVALID_VOLUME)

    def _commission(self, user: User, lots: Decimal) -> Decimal:
        group = self.group(user.group)
        return -money(group.commission_per_lot * lots) if group else Decimal(0)

    def _order(self) -> int:
        order = self._next_order
        self._next_order += 1
        return order

    def _deal(
        self,
        *,
        login: int,
        action: int,
        dealer: int = 0,
        order: int = 0,
        entry: int = DealEntry.IN,
        reason: int = DealReason.CLIENT,
        quote: Quote | None = None,
        price: Decimal = Decimal(0),
        volume: int = 0,
        volume_closed: int = 0,
        profit: Decimal = Decimal(0),
        commission: Decimal = Decimal(0),
        position_id: int = 0,
        price_position: Decimal = Decimal(0),
        comment: str = "",
    ) -> Deal:
        deal = Deal(
            ticket=self._next_deal,
            login=login,
            action=action,
            time_msc=self.now_msc(),
            dealer=dealer,
            order=order,
            entry=entry,
            reason=reason,
            symbol=quote.symbol if quote else "",
            price=price,
            volume=volume,
            volume_closed=volume_closed,
            profit=profit,
            commission=commission,
            value=money(Decimal(volume) / 10_000 * quote.contract_size * price)
            if quote
            else Decimal(0),
            position_id=position_id,
            price_position=price_position,
            comment=comment,
            contract_size=quote.contract_size if quote else Decimal(0),
            digits=quote.digits if quote else 0,
            market_bid=quote.bid if quote else Decimal(0),
            market_ask=quote.ask if quote else Decimal(0),
        )
        self._next_deal += 1
        self.deals.append(deal)
        self.deal_index[deal.ticket] = deal
        return deal


def _date(day: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(days=day)
