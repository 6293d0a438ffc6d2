"""Minimum trading days: the account must have traded on ``count`` distinct trading days.

What makes a day count (``counts``):

- ``position_opened`` (FTMO): a position was opened that day; a position held over several
  days counts only on the day it was opened, and adding to it later counts nothing.
- ``position_closed``: a position was closed completely that day (partial closes do not count).
- ``day_profit`` (The5ers, Topstep payouts): the day's net closed result (profit, commission
  and swap of its deals) reached ``threshold``. The current day counts while it is at or above
  the threshold, so the account can pass during it; whether it stays counted is decided at the
  day's end (a due instant), so a day that falls back below the threshold does not count.

Days are trading days of ``day`` (default: the product's), across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.events import Deal, Event
from propdesk.rules.families.common import TradingDays
from propdesk.rules.family import (
    AMOUNT_SCHEMA,
    Finding,
    PhaseContext,
    RuleFamily,
    amount_of,
    describe_amount,
    local_time_schema,
)
from propdesk.rules.money import ZERO, plain

COUNTS = {
    "position_opened": "you open a position on it (a position held over several days counts "
    "only on the day it was opened)",
    "position_closed": "you close a position completely on it",
    "day_profit": "its closed trades net at least {threshold}",
}


class MinTradingDays(RuleFamily):
    code = "min_trading_days"
    display_name = "Minimum trading days"
    role = "target"
    reacts_to = frozenset({"deal"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["count"],
        "properties": {
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": 366,
                "description": "Distinct trading days needed.",
            },
            "counts": {
                "enum": list(COUNTS),
                "default": "position_opened",
                "description": "What makes a day count: a position opened or closed on it, "
                "or a net closed result of at least threshold.",
            },
            "threshold": {
                **AMOUNT_SCHEMA,
                "description": "The day's net closed result needed (counts: day_profit only).",
            },
            "day": local_time_schema("When trading days start (default: the product's day)."),
        },
        "allOf": [
            {
                "if": {"properties": {"counts": {"const": "day_profit"}}, "required": ["counts"]},
                "then": {"required": ["threshold"]},
                "else": {"not": {"required": ["threshold"]}},
            }
        ],
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.count: int = params["count"]
        self.counts: str = params.get("counts", "position_opened")
        if (self.counts == "day_profit") != ("threshold" in params):
            raise ValueError("threshold is needed when, and only when, counts is day_profit")
        self.timed = self.counts == "day_profit"
        self.day = self.local_time("day")
        self.days_of = TradingDays(self.day)
        #: Days that count for good, in order.
        self.days: list[date] = []
        self._seen: set[date] = set()
        self.threshold = ZERO
        # day_profit: the day being traded, its net result, and when it ends.
        self.today: date | None = None
        self.today_net = ZERO
        self.today_ends: datetime | None = None

    def start(self, account: Account, at: datetime) -> Finding | None:
        if self.counts == "day_profit":
            self.threshold = amount_of(self.params["threshold"], account.initial_balance)
        return None

    def _add(self, day: date) -> None:
        if day not in self._seen:
            self._seen.add(day)
            self.days.append(day)

    def _provisional(self) -> bool:
        return self.today_ends is not None and self.today_net >= self.threshold

    def _decide(self) -> None:
        self.met = len(self.days) + self._provisional() >= self.count

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if not isinstance(event, Deal):
            return None
        if self.counts == "position_opened":
            position = account.positions.get(event.position)
            if event.entry == "in" and position is not None:
                self._add(self.days_of.of(position.opened_at))
        elif self.counts == "position_closed":
            if account.closed is not None:
                self._add(self.days_of.of(event.time))
        else:
            if self.today_ends is not None and event.time >= self.today_ends:
                # A deal at the boundary itself comes before the due: close the day here.
                self._close_day()
            if self.today_ends is None:
                self.today = self.days_of.of(event.time)
                self.today_ends = self.days_of.end_of(event.time)
            self.today_net += event.net
        self._decide()
        return None

    def _close_day(self) -> None:
        if self._provisional() and self.today is not None:
            self._add(self.today)
        self.today, self.today_net, self.today_ends = None, ZERO, None

    def next_due(self) -> datetime | None:
        return self.today_ends

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        self._close_day()
        self._decide()
        return None

    def counted(self) -> list[date]:
        """The days that count now, the current one included while it is at the threshold."""
        if self._provisional() and self.today is not None and self.today not in self._seen:
            return [*self.days, self.today]
        return list(self.days)

    def objective(self, account: Account) -> dict[str, Any]:
        days = self.counted()
        remaining = max(self.count - len(days), 0)
        text = f"{len(days)} of {self.count} trading days"
        if remaining:
            text += f"; {remaining} to go"
        found: dict[str, Any] = {
            "status": "met" if self.met else "not_met",
            "counts": self.counts,
            "required": self.count,
            "days": [day.isoformat() for day in days],
            "counted": len(days),
            "remaining": remaining,
        }
        if self.counts == "day_profit":
            provisional = self._provisional() and self.today is not None
            found["threshold"] = plain(self.threshold)
            found["today"] = (
                {
                    "day": self.today.isoformat(),
                    "net": plain(self.today_net),
                    "counts_for_now": provisional,
                    "decided_at": utc(self.today_ends) if self.today_ends else None,
                }
                if self.today is not None
                else None
            )
        found["text"] = text
        return found

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        count = params["count"]
        counts = params.get("counts", "position_opened")
        day = params.get("day") or context.trading_day.spec
        rule = COUNTS[counts]
        if counts == "day_profit":
            rule = rule.format(threshold=describe_amount(params["threshold"], context.currency))
        text = (
            f"Trade on at least {count} different day{'s' * (count != 1)}: a day counts when "
            f"{rule}. Days start at {day['time']} {day['timezone']}."
        )
        if counts == "day_profit":
            text += " A day that ends below that does not count."
        return text
