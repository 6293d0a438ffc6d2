"""Maximum loss: the measure must stay at or above an overall floor for the whole phase.

``trail`` chooses how the floor moves: ``none`` (static: initial balance minus the limit);
``equity_hwm`` (the highest equity seen, floating profit included, minus the limit);
``balance_hwm`` (the highest closed balance); ``eod_balance`` (the highest balance at a day's
end, taken at the daily boundary). A trailing floor never falls, and with ``lock`` it stops
rising at initial balance + ``lock.offset``. A breach is the measure strictly below
``floor - tolerance``; it always fails the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.events import Event
from propdesk.rules.family import (
    HIGH,
    LOW,
    TOLERANCE_SCHEMA,
    Band,
    Finding,
    PhaseContext,
    RuleFamily,
    amount_of,
    amount_schema,
    describe_amount,
    local_time_schema,
    measure_schema,
)
from propdesk.rules.money import (
    DECIMAL_STRING,
    ZERO,
    money,
    parse_decimal,
    pct,
    plain,
)

TRAILS = {
    "none": "the initial balance",
    "equity_hwm": "the highest equity reached (including floating profit)",
    "balance_hwm": "the highest closed balance reached",
    "eod_balance": "the highest end-of-day balance",
}


class MaxLoss(RuleFamily):
    code = "max_loss"
    display_name = "Maximum loss"
    reacts_to = frozenset({"snapshot", "deal", "balance"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "trail": {"enum": list(TRAILS), "default": "none"},
            "amount": {
                **amount_schema("initial_balance", "high_water_mark"),
                "description": "The maximum loss: a percentage of the initial balance or of the "
                "high-water mark (the drawdown then grows with it), or a fixed amount.",
            },
            "measure": measure_schema("equity"),
            "day_end": local_time_schema("End of day for eod_balance (default: the product's)."),
            "lock": {
                "type": "object",
                "additionalProperties": False,
                "required": ["offset"],
                "properties": {"offset": DECIMAL_STRING},
            },
            "tolerance": TOLERANCE_SCHEMA,
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.trail = params.get("trail", "none")
        self.timed = self.trail == "eod_balance"
        self.on_equity = params.get("measure", "equity") == "equity"
        self.tolerance = parse_decimal(params.get("tolerance", "0"))
        lock = params.get("lock")
        self.lock_offset = parse_decimal(lock["offset"]) if lock else None
        self.day_end = self.local_time("day_end")
        amount = params["amount"]
        #: Percent of the high-water mark: the limit moves with the mark.
        self.of_high = (
            parse_decimal(amount["percent"]) if amount.get("of") == "high_water_mark" else None
        )
        self.initial = self.limit = self.high = self.floor = self.breach_below = ZERO
        self.lock_level: Decimal | None = None
        self.ends_at: datetime | None = None
        self.breached = False

    def _raise_to(self, high: Decimal) -> None:
        if high <= self.high:
            return
        self.high = high
        if self.of_high is not None:
            self.limit = high * self.of_high / 100
        floor = high - self.limit
        if self.lock_level is not None and floor > self.lock_level:
            floor = self.lock_level
        if floor > self.floor:
            self.floor = floor
            self.breach_below = floor - self.tolerance

    def start(self, account: Account, at: datetime) -> Finding | None:
        self.initial = self.high = account.initial_balance
        if self.of_high is not None:
            self.limit = self.initial * self.of_high / 100
        else:
            self.limit = amount_of(self.params["amount"], self.initial)
        if self.lock_offset is not None:
            self.lock_level = self.initial + self.lock_offset
        self.floor = self.initial - self.limit
        if self.lock_level is not None and self.floor > self.lock_level:
            self.floor = self.lock_level
        self.breach_below = self.floor - self.tolerance
        if self.timed:
            self.ends_at = self.day_end.next_after(at)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if self.trail == "equity_hwm":
            if account.equity > self.high:
                self._raise_to(account.equity)
        elif self.trail == "balance_hwm" and account.balance > self.high:
            self._raise_to(account.balance)
        measure = account.equity if self.on_equity else account.balance
        if measure < self.breach_below:
            return self._breach(event.time, measure)
        return None

    def next_due(self) -> datetime | None:
        return self.ends_at

    def quiet_band(self) -> Band | None:
        equity_low = balance_low = LOW
        if self.on_equity:
            equity_low = self.breach_below
        else:
            balance_low = self.breach_below
        equity_high = self.high if self.trail == "equity_hwm" else HIGH
        balance_high = self.high if self.trail == "balance_hwm" else HIGH
        return (equity_low, equity_high, balance_low, balance_high)

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        self._raise_to(account.balance)
        self.ends_at = self.day_end.next_after(at)
        measure = account.equity if self.on_equity else account.balance
        if measure < self.breach_below:
            return self._breach(at, measure)
        return None

    def reopen(self, at: datetime, account: Account) -> None:
        self.breached = False

    def _breach(self, at: datetime, measure: Decimal) -> Finding:
        self.breached = True
        what = "Equity" if self.on_equity else "Closed balance"
        base = "initial balance" if self.trail == "none" else TRAILS[self.trail].split(" (")[0]
        text = (
            f"{what} {money(measure)} fell below the maximum-loss floor {money(self.floor)} "
            f"({base} {money(self.high)} minus the maximum loss {money(self.limit)}"
        )
        if self.lock_level is not None and self.floor == self.lock_level:
            text += f", locked at {money(self.lock_level)}"
        text += ")"
        if self.tolerance:
            text += f" by more than the tolerance of {money(self.tolerance)}"
        return self.finding(
            "breach", at, text + ".", measure=measure, floor=self.floor, high=self.high
        )

    def objective(self, account: Account) -> dict[str, Any]:
        measure = account.equity if self.on_equity else account.balance
        locked = self.lock_level is not None and self.floor >= self.lock_level
        return {
            "status": "breached" if self.breached else "ok",
            "measure": "equity" if self.on_equity else "balance",
            "current": plain(measure),
            "trail": self.trail,
            "high_water_mark": plain(self.high),
            "limit": plain(self.limit),
            "floor": plain(self.floor),
            "locked": locked,
            "headroom": plain(measure - self.floor),
            "next_update_at": utc(self.ends_at) if self.ends_at else None,
            "text": f"maximum-loss floor {money(self.floor)}",
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        amount = params["amount"]
        if amount.get("of") == "high_water_mark":
            limit = f"{pct(parse_decimal(amount['percent']))} of it"
        else:
            limit = describe_amount(amount, context.currency)
        measure = "equity" if params.get("measure", "equity") == "equity" else "closed balance"
        trail = params.get("trail", "none")
        if trail == "none":
            text = f"Your {measure} must never fall below the initial balance minus {limit}."
        else:
            text = (
                f"Your {measure} must never fall below {TRAILS[trail]} minus {limit}; "
                "this floor only ever rises."
            )
        if trail == "eod_balance":
            end = params.get("day_end") or context.trading_day.spec
            text += f" It moves up once a day, at {end['time']} {end['timezone']}."
        if "lock" in params:
            offset = parse_decimal(params["lock"]["offset"])
            where = (
                "the initial balance" if not offset else f"the initial balance + {money(offset)}"
            )
            text += f" It stops rising at {where}."
        return text + " Falling below it fails the account."
