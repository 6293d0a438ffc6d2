"""The simulator's records (groups, users, positions, deals) and their wire form: every number
a string, money with the currency's digits, prices with the symbol's."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from propdesk_mt5.protocol import VOLUME_EXT_PER_LOT, VOLUME_PER_LOT, Retcode

CENT = Decimal("0.01")


class Refusal(Exception):
    """A command refused with a retcode (the wire answers ``{"retcode": "<code> <text>"}``)."""

    def __init__(self, retcode: Retcode, detail: str = "") -> None:
        super().__init__(f"{retcode}{': ' + detail if detail else ''}")
        self.retcode = retcode


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + 0  # + 0 turns -0.00 into 0.00


def fmt_money(value: Decimal) -> str:
    return f"{money(value):f}"


def fmt_price(value: Decimal, digits: int) -> str:
    if not value:
        return "0"
    quantum = Decimal(1).scaleb(-digits)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):f}"


def to_decimal(value: Any) -> Decimal:
    """A wire number (string or number) as a finite ``Decimal``; else ``3 Invalid parameters``."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Refusal(Retcode.ERR_PARAMS, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise Refusal(Retcode.ERR_PARAMS, f"{value!r} is not a number")
    return number


def to_int(value: Any) -> int:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise Refusal(Retcode.ERR_PARAMS, f"{value!r} is not an integer")
    return int(number)


@dataclass
class Group:
    name: str
    currency: str = "USD"
    stopout: Decimal = Decimal(50)
    margin_call: Decimal = Decimal(100)
    commission_per_lot: Decimal = Decimal(0)
    currency_digits: int = 2


#: Free-text user fields as the wire names them, with the lower-case query names that set them.
TEXT_FIELDS: dict[str, str] = {
    "Name": "name",
    "FirstName": "first_name",
    "LastName": "last_name",
    "MiddleName": "middle_name",
    "Company": "company",
    "Account": "account",
    "Country": "country",
    "Language": "language",
    "ClientID": "client_id",
    "City": "city",
    "State": "state",
    "ZIPCode": "zipcode",
    "Address": "address",
    "Phone": "phone",
    "Email": "email",
    "ID": "id",
    "Status": "status",
    "Comment": "comment",
    "Color": "color",
    "PhonePassword": "pass_phone",
    "Agent": "agent",
    "MQID": "mqid",
    "LeadCampaign": "lead_campaign",
    "LeadSource": "lead_source",
    "LimitPositions": "limit_positions",
    "LimitOrders": "limit_orders",
}


@dataclass
class User:
    login: int
    group: str
    rights: int
    leverage: int
    pass_main: str
    pass_investor: str
    registration: int
    text: dict[str, str] = field(default_factory=dict)
    api_data: list[dict[str, str]] = field(default_factory=list)
    balance: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    balance_prev_day: Decimal = Decimal(0)
    equity_prev_day: Decimal = Decimal(0)
    balance_prev_month: Decimal = Decimal(0)
    equity_prev_month: Decimal = Decimal(0)
    last_access: int = 0
    last_pass_change: int = 0
    #: Trade state exists (``user/account/get``) once the account has had a position.
    traded: bool = False
    so_activation: int = 0
    so_time: int = 0
    so_level: Decimal = Decimal(0)
    so_equity: Decimal = Decimal(0)
    so_margin: Decimal = Decimal(0)

    def wire(self) -> dict[str, Any]:
        text = self.text
        out: dict[str, Any] = {
            "Login": str(self.login),
            "Group": self.group,
            "CertSerialNumber": "0",
            "Rights": str(self.rights),
            "Registration": str(self.registration),
            "LastAccess": str(self.last_access),
            "LastPassChange": str(self.last_pass_change),
            "LastIP": "",
        }
        out.update({name: text.get(name, "") for name in TEXT_FIELDS})
        for name in ("LimitPositions", "LimitOrders", "Color"):
            out[name] = text.get(name) or "0"
        out.update(
            {
                "Leverage": str(self.leverage),
                "TradeAccounts": "",
                "Balance": fmt_money(self.balance),
                "Credit": fmt_money(self.credit),
                "InterestRate": "0.00",
                "CommissionDaily": "0.00",
                "CommissionMonthly": "0.00",
                "CommissionAgentDaily": "0.00",
                "CommissionAgentMonthly": "0.00",
                "BalancePrevDay": fmt_money(self.balance_prev_day),
                "BalancePrevMonth": fmt_money(self.balance_prev_month),
                "EquityPrevDay": fmt_money(self.equity_prev_day),
                "EquityPrevMonth": fmt_money(self.equity_prev_month),
                "ApiData": [dict(item) for item in self.api_data],
            }
        )
        return out


@dataclass
class Position:
    ticket: int
    login: int
    symbol: str
    action: int
    volume: int
    price_open: Decimal
    digits: int
    contract_size: Decimal
    time_create_msc: int
    time_update_msc: int
    reason: int
    comment: str = ""
    storage: Decimal = Decimal(0)

    @property
    def lots(self) -> Decimal:
        return Decimal(self.volume) / VOLUME_PER_LOT

    def wire(self, price_current: Decimal, profit: Decimal, rate_margin: Decimal) -> dict[str, Any]:
        return {
            "Position": str(self.ticket),
            "ExternalID": "",
            "Login": str(self.login),
            "Dealer": "0",
            "Symbol": self.symbol,
            "Action": str(self.action),
            "Digits": str(self.digits),
            "DigitsCurrency": "2",
            "Reason": str(self.reason),
            "ContractSize": f"{self.contract_size:.2f}",
            "TimeCreate": str(self.time_create_msc // 1000),
            "TimeUpdate": str(self.time_update_msc // 1000),
            "TimeCreateMsc": str(self.time_create_msc),
            "TimeUpdateMsc": str(self.time_update_msc),
            "ModifyFlags": "0",
            "PriceOpen": fmt_price(self.price_open, self.digits),
            "PriceCurrent": fmt_price(price_current, self.digits),
            "PriceSL": "0",
            "PriceTP": "0",
            "Volume": str(self.volume),
            "VolumeExt": str(self.volume * (VOLUME_EXT_PER_LOT // VOLUME_PER_LOT)),
            "Profit": fmt_money(profit),
            "Storage": fmt_money(self.storage),
            "RateProfit": "1.00000000",
            "RateMargin": f"{rate_margin:.8f}",
            "ExpertID": "0",
            "ExpertPositionID": "0",
            "Comment": self.comment,
            "ActivationMode": "0",
            "ActivationTime": "0",
            "ActivationPrice": "0",
            "ActivationFlags": "0",
        }


@dataclass(frozen=True)
class Deal:
    ticket: int
    login: int
    action: int
    time_msc: int
    dealer: int = 0
    order: int = 0
    entry: int = 0
    reason: int = 0
    symbol: str = ""
    price: Decimal = Decimal(0)
    volume: int = 0
    volume_closed: int = 0
    profit: Decimal = Decimal(0)
    storage: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    position_id: int = 0
    price_position: Decimal = Decimal(0)
    comment: str = ""
    contract_size: Decimal = Decimal(0)
    digits: int = 0
    market_bid: Decimal = Decimal(0)
    market_ask: Decimal = Decimal(0)

    @property
    def time(self) -> int:
        return self.time_msc // 1000

    def wire(self) -> dict[str, Any]:
        digits = self.digits
        ext = VOLUME_EXT_PER_LOT // VOLUME_PER_LOT
        return {
            "Deal": str(self.ticket),
            "ExternalID": "",
            "Login": str(self.login),
            "Dealer": str(self.dealer),
            "Order": str(self.order),
            "Action": str(self.action),
            "Entry": str(self.entry),
            "Reason": str(self.reason),
            "Digits": str(digits),
            "DigitsCurrency": "2",
            "ContractSize": f"{self.contract_size:.2f}",
            "Time": str(self.time),
            "TimeMsc": str(self.time_msc),
            "Symbol": self.symbol,
            "Price": fmt_price(self.price, digits),
            "PriceSL": "0",
            "PriceTP": "0",
            "Volume": str(self.volume),
            "VolumeExt": str(self.volume * ext),
            "VolumeClosed": str(self.volume_closed),
            "VolumeClosedExt": str(self.volume_closed * ext),
            "Profit": fmt_money(self.profit),
            "Storage": fmt_money(self.storage),
            "Commission": fmt_money(self.commission),
            "Fee": "0.00",
            "Value": fmt_money(self.value),
            "RateProfit": "1.00000000" if self.symbol else "0",
            "RateMargin": "0",
            "ExpertID": "0",
            "PositionID": str(self.position_id),
            "PricePosition": fmt_price(self.price_position, digits),
            "Comment": self.comment,
            "MarketBid": fmt_price(self.market_bid, digits),
            "MarketAsk": fmt_price(self.market_ask, digits),
            "MarketLast": "0",
            "Gateway": "",
            "ModificationFlags": "0",
        }


@dataclass(frozen=True)
class AccountState:
    """An account's trade state at the current prices."""

    login: int
    balance: Decimal
    credit: Decimal
    profit: Decimal
    storage: Decimal
    margin: Decimal
    leverage: int

    @property
    def floating(self) -> Decimal:
        return self.profit + self.storage

    @property
    def equity(self) -> Decimal:
        return self.balance + self.credit + self.floating

    @property
    def margin_free(self) -> Decimal:
        return self.equity - self.margin

    @property
    def margin_level(self) -> Decimal:
        return self.equity / self.margin * 100 if self.margin else Decimal(0)

    def wire(self, user: User) -> dict[str, Any]:
        return {
            "Login": str(self.login),
            "CurrencyDigits": "2",
            "Balance": fmt_money(self.balance),
            "Credit": fmt_money(self.credit),
            "Margin": fmt_money(self.margin),
            "MarginFree": fmt_money(self.margin_free),
            "MarginLevel": fmt_money(self.margin_level),
            "MarginLeverage": str(self.leverage),
            "MarginInitial": "0.00",
            "MarginMaintenance": "0.00",
            "Profit": fmt_money(self.profit),
            "Storage": fmt_money(self.storage),
            "Commission": "0.00",
            "Floating": fmt_money(self.floating),
            "Equity": fmt_money(self.equity),
            "SOActivation": str(user.so_activation),
            "SOTime": str(user.so_time),
            "SOLevel": fmt_money(user.so_level),
            "SOEquity": fmt_money(user.so_equity),
            "SOMargin": fmt_money(user.so_margin),
            "BlockedCommission": "0.00",
            "BlockedProfit": "0.00",
            "Assets": fmt_money(max(self.equity, Decimal(0))),
            "Liabilities": "0.00",
        }
