"""Inactivity: the account must trade at least once every so many calendar days.

Days are counted from the opening, and afresh from every activity: a deal that opens or adds
to a position (``position_opened``, the default), a deal that closes a position in whole or in
part (``position_closed``), or any deal (``any_deal``). Holding a position is not activity.
The deadline is the same wall-clock time ``days`` calendar days later in the timezone of
``day`` (with ``ends_at_day_end``: the end of that trading day). An optional warning comes
``warn_before_days`` calendar days before it. Both are decided at their instant, with no event
needed; an activity at the deadline instant itself is in time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.events import Deal, Event
from propdesk.rules.families.common import (
    CALENDAR_DAY_SCHEMA,
    boundary_at_or_after,
    local_days_later,
    local_text,
)
from propdesk.rules.family import Finding, PhaseContext, RuleFamily

#: activity -> (what it is, what the trader does)
ACTIVITIES = {
    "position_opened": ("new position", "open a position"),
    "position_closed": ("closed position", "close a position"),
    "any_deal": ("trade", "trade"),
}
CONSEQUENCES = {"expire": "expires", "fail": "fails"}


class Inactivity(RuleFamily):
    code = "inactivity"
    display_name = "Inactivity"
    reacts_to = frozenset({"deal"})
    timed = True
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["days"],
        "properties": {
            "days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 3650,
                "description": "Calendar days allowed without activity.",
            },
            "activity": {
                "enum": list(ACTIVITIES),
                "default": "position_opened",
                "description": "What counts as activity: opening, closing or any deal.",
            },
            "warn_before_days": {
                "type": "integer",
                "minimum": 1,
                "description": "Warn this many calendar days before the deadline (less than days).",
            },
            "consequence": {
                "enum": list(CONSEQUENCES),
                "default": "expire",
                "description": "What happens at the deadline.",
            },
            "ends_at_day_end": {
                "type": "boolean",
                "default": False,
                "description": "Run on to the end of the trading day the deadline falls in.",
            },
            "day": CALENDAR_DAY_SCHEMA,
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.days: int = params["days"]
        self.activity: str = params.get("activity", "position_opened")
        self.warn_before: int | None = params.get("warn_before_days")
        if self.warn_before is not None and self.warn_before >= self.days:
            raise ValueError(
                f"warn_before_days ({self.warn_before}) must be less than days ({self.days})"
            )
        self.consequence: str = params.get("consequence", "expire")
        self.fails = self.consequence == "fail"
        self.aligned: bool = params.get("ends_at_day_end", False)
        self.day = self.local_time("day")
        self.counted_from: datetime | None = None
        self.last_activity: datetime | None = None
        self.deadline: datetime | None = None
        self.warn_at: datetime | None = None
        self.warned = False
        self.ended = False

    def _count_from(self, at: datetime) -> None:
        self.counted_from = at
        tz = self.day.tz
        deadline = local_days_later(at, self.days, tz)
        if self.aligned:
            deadline = boundary_at_or_after(self.day, deadline)
        self.deadline = deadline
        if self.warn_before is not None:
            self.warn_at = local_days_later(deadline, -self.warn_before, tz)
        self.warned = False

    def _is_activity(self, deal: Deal) -> bool:
        if self.activity == "position_opened":
            return deal.entry == "in"
        if self.activity == "position_closed":
            return deal.entry == "out"
        return True

    def start(self, account: Account, at: datetime) -> Finding | None:
        self._count_from(at)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if isinstance(event, Deal) and self._is_activity(event):
            self.last_activity = event.time
            self._count_from(event.time)
        return None

    def next_due(self) -> datetime | None:
        if self.ended:
            return None
        if self.warn_at is not None and not self.warned:
            return self.warn_at
        return self.deadline

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        noun, verb = ACTIVITIES[self.activity]
        tz = self.day.tz
        assert self.deadline is not None
        if at != self.deadline:
            self.warned = True
            return self.finding(
                "warn",
                at,
                f"No {noun} {self._since()}: the account {CONSEQUENCES[self.consequence]} "
                f"at {local_text(self.deadline, tz)} unless you {verb} before then.",
                deadline=utc(self.deadline),
                last_activity=self._last_text(),
            )
        self.ended = True
        return self.finding(
            "breach" if self.fails else "expire",
            at,
            f"No {noun} for {self.days} days {self._since()}: the account "
            f"{'failed' if self.fails else 'expired'} for inactivity.",
            deadline=utc(at),
            last_activity=self._last_text(),
        )

    def _since(self) -> str:
        assert self.counted_from is not None
        when = local_text(self.counted_from, self.day.tz)
        if self.last_activity is None:
            return f"since the account opened at {when}"
        return f"since the last one at {when}"

    def _last_text(self) -> str:
        return utc(self.last_activity) if self.last_activity else ""

    def objective(self, account: Account) -> dict[str, Any]:
        if self.deadline is None or self.counted_from is None:
            return {"status": "not_started", "days": self.days, "text": "inactivity"}
        if self.ended:
            status = "failed" if self.fails else "expired"
        else:
            status = "warned" if self.warned else "ok"
        noun, _ = ACTIVITIES[self.activity]
        return {
            "status": status,
            "activity": self.activity,
            "days": self.days,
            "last_activity": utc(self.last_activity) if self.last_activity else None,
            "counted_from": utc(self.counted_from),
            "deadline": utc(self.deadline),
            "warning_at": utc(self.warn_at) if self.warn_at else None,
            "text": f"next {noun} due by {local_text(self.deadline, self.day.tz)}",
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        day = params.get("day") or context.trading_day.spec
        days = params["days"]
        noun, verb = ACTIVITIES[params.get("activity", "position_opened")]
        consequence = CONSEQUENCES[params.get("consequence", "expire")]
        text = (
            f"You must {verb} at least once every {days} calendar days, counted from the "
            f"account's opening or your last {noun} ({day['timezone']} time)"
        )
        if params.get("ends_at_day_end"):
            text += f"; the last day runs until the trading day ends at {day['time']}"
        text += f". Otherwise the account {consequence}"
        warn = params.get("warn_before_days")
        if warn:
            text += f"; you are warned {warn} day{'s' * (warn != 1)} before"
        return text + "."
