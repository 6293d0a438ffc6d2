"""Daily loss: the measure must stay at or above a floor set afresh at every daily reset.

The floor is ``anchor - loss limit``. The anchor is the initial balance, or the balance,
equity or the higher of both at the last reset (the last known values at or before the reset
instant; on the first day, the initial balance). The limit is a percentage of the initial
balance, a percentage of the anchor, or a fixed amount. Balance operations (deposits,
withdrawals, payouts) move the day-start values with them: they are not trading results.
A breach is the measure strictly below ``floor - tolerance``. With severity ``pause`` the
account is paused until the next reset instead of failed; a position held across the reset
is checked against the new floor at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.events import BalanceOperation, Event
from propdesk.rules.family import (
    ANYTHING,
    HIGH,
    LOW,
    TOLERANCE_SCHEMA,
    Band,
    Finding,
    PhaseContext,
    RuleFamily,
    amount_schema,
    local_time_schema,
    measure_schema,
)
from propdesk.rules.money import (
    ZERO,
    money,
    parse_decimal,
    pct,
    plain,
)

ANCHORS = {
    "initial_balance": "initial balance",
    "day_start_balance": "day-start balance",
    "day_start_equity": "day-start equity",
    "day_start_balance_or_equity": "higher of day-start balance and equity",
}


class DailyLoss(RuleFamily):
    code = "daily_loss"
    display_name = "Maximum daily loss"
    reacts_to = frozenset({"snapshot", "deal", "balance"})
    timed = True
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "anchor": {"enum": list(ANCHORS), "default": "day_start_balance"},
            "amount": amount_schema("initial_balance", "anchor"),
            "measure": measure_schema("equity"),
            "reset": local_time_schema("When the day restarts (default: the product's day)."),
            "severity": {"enum": ["fail", "pause"], "default": "fail"},
            "tolerance": TOLERANCE_SCHEMA,
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.anchor_kind = params.get("anchor", "day_start_balance")
        self.on_equity = params.get("measure", "equity") == "equity"
        self.pause = params.get("severity", "fail") == "pause"
        self.tolerance = parse_decimal(params.get("tolerance", "0"))
        self.reset = self.local_time("reset")
        amount = params["amount"]
        self.fixed = parse_decimal(amount["fixed"]) if "fixed" in amount else None
        self.percent = parse_decimal(amount.get("percent", "0"))
        self.of_initial = amount.get("of") == "initial_balance"
        self.initial = ZERO
        self.day_balance = self.day_equity = ZERO
        self.anchor = self.limit = self.floor = self.breach_below = ZERO
        self.resets_at: datetime | None = None
        self.breached = False

    # -- the floor ----------------------------------------------------------------------------
    def _set_floor(self) -> None:
        kind = self.anchor_kind
        if kind == "initial_balance":
            anchor = self.initial
        elif kind == "day_start_balance":
            anchor = self.day_balance
        elif kind == "day_start_equity":
            anchor = self.day_equity
        else:
            anchor = max(self.day_balance, self.day_equity)
        if self.fixed is not None:
            limit = self.fixed
        else:
            limit = (self.initial if self.of_initial else anchor) * self.percent / 100
        self.anchor, self.limit = anchor, limit
        self.floor = anchor - limit
        self.breach_below = self.floor - self.tolerance

    def _measure(self, account: Account) -> Decimal:
        return account.equity if self.on_equity else account.balance

    # -- evaluation ---------------------------------------------------------------------------
    def start(self, account: Account, at: datetime) -> Finding | None:
        self.initial = self.day_balance = self.day_equity = account.initial_balance
        self._set_floor()
        self.resets_at = self.reset.next_after(at)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if isinstance(event, BalanceOperation):
            self.day_balance += event.amount
            self.day_equity += event.amount
            self._set_floor()
        measure = account.equity if self.on_equity else account.balance
        if measure < self.breach_below and not self.breached:
            return self._breach(event.time, measure)
        return None

    def next_due(self) -> datetime | None:
        return self.resets_at

    def quiet_band(self) -> Band | None:
        if self.breached:
            return ANYTHING
        if self.on_equity:
            return (self.breach_below, HIGH, LOW, HIGH)
        return (LOW, HIGH, self.breach_below, HIGH)

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        self.day_balance, self.day_equity = account.balance, account.equity
        self._set_floor()
        self.resets_at = self.reset.next_after(at)
        measure = self._measure(account)
        was_paused, self.breached = self.breached, False
        if measure < self.breach_below:
            return self._breach(at, measure)
        if was_paused:
            return self.finding(
                "resume",
                at,
                f"The day restarted at {self.reset.describe()}: trading resumes with a "
                f"daily-loss floor of {money(self.floor)}.",
                floor=self.floor,
            )
        return None

    def reopen(self, at: datetime, account: Account) -> None:
        self.breached = False

    def _breach(self, at: datetime, measure: Decimal) -> Finding:
        self.breached = True
        what = "Equity" if self.on_equity else "Closed balance"
        text = (
            f"{what} {money(measure)} fell below the daily-loss floor {money(self.floor)} "
            f"({ANCHORS[self.anchor_kind]} {money(self.anchor)} minus the daily loss limit "
            f"{money(self.limit)})"
        )
        if self.tolerance:
            text += f" by more than the tolerance of {money(self.tolerance)}"
        if self.pause:
            text += f"; trading is paused until the reset at {self.reset.describe()}"
        return self.finding(
            "pause" if self.pause else "breach",
            at,
            text + ".",
            measure=measure,
            floor=self.floor,
            anchor=self.anchor,
            limit=self.limit,
        )

    # -- explanation --------------------------------------------------------------------------
    def objective(self, account: Account) -> dict[str, Any]:
        measure = self._measure(account)
        return {
            "status": ("paused" if self.pause else "breached") if self.breached else "ok",
            "measure": "equity" if self.on_equity else "balance",
            "current": plain(measure),
            "anchor": plain(self.anchor),
            "limit": plain(self.limit),
            "floor": plain(self.floor),
            "headroom": plain(measure - self.floor),
            "resets_at": utc(self.resets_at) if self.resets_at else None,
            "text": f"daily-loss floor {money(self.floor)}",
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        amount = params["amount"]
        if "fixed" in amount:
            limit = f"{money(parse_decimal(amount['fixed']))} {context.currency}"
        else:
            of = "initial balance" if amount["of"] == "initial_balance" else "that reference"
            limit = f"{pct(parse_decimal(amount['percent']))} of the {of}"
        anchor = ANCHORS[params.get("anchor", "day_start_balance")]
        measure = (
            "equity (including floating profit and loss, commissions and swaps)"
            if params.get("measure", "equity") == "equity"
            else "closed balance"
        )
        reset = params.get("reset") or context.trading_day.spec
        consequence = (
            "pauses trading until the next reset"
            if params.get("severity") == "pause"
            else "fails the account"
        )
        return (
            f"Each day your {measure} must stay at or above your {anchor} minus {limit}. "
            f"The day restarts at {reset['time']} {reset['timezone']}. "
            f"Falling below {consequence}."
        )
