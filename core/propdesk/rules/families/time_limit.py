"""Time limit: the objectives must be met within a number of calendar days of the opening.

The period ends at the same wall-clock time ``days`` calendar days after the account opened,
in the timezone of ``day`` (so a period across a daylight-saving change is not 24-hour days).
With ``ends_at_day_end`` it runs on to the end of the trading day it would end in. At that
instant, decided even with no event, the account expires (or fails, with ``consequence: fail``)
unless it passed before. The rule also steps at every day boundary of the period, so the days
left are current when nothing happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import utc
from propdesk.rules.families.common import (
    CALENDAR_DAY_SCHEMA,
    boundary_at_or_after,
    day_before,
    local_days_later,
    local_text,
)
from propdesk.rules.family import Finding, PhaseContext, RuleFamily

CONSEQUENCES = {"expire": "the account expires", "fail": "the account fails"}


class TimeLimit(RuleFamily):
    code = "time_limit"
    display_name = "Time limit"
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
                "description": "Calendar days from the account's opening.",
            },
            "ends_at_day_end": {
                "type": "boolean",
                "default": False,
                "description": "Run on to the end of the trading day the period would end in.",
            },
            "consequence": {
                "enum": list(CONSEQUENCES),
                "default": "expire",
                "description": "What happens when the period ends with objectives unmet.",
            },
            "day": CALENDAR_DAY_SCHEMA,
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.days: int = params["days"]
        self.aligned: bool = params.get("ends_at_day_end", False)
        self.fails = params.get("consequence", "expire") == "fail"
        self.day = self.local_time("day")
        self.opened_at: datetime | None = None
        self.deadline: datetime | None = None
        self.last_day: date | None = None
        self.today: date | None = None
        self.next_day: datetime | None = None
        self.ended = False

    def start(self, account: Account, at: datetime) -> Finding | None:
        self.opened_at = at
        deadline = local_days_later(at, self.days, self.day.tz)
        if self.aligned:
            deadline = boundary_at_or_after(self.day, deadline)
        self.deadline = deadline
        self.last_day = day_before(deadline, self.day)
        self._step(at)
        return None

    def _step(self, at: datetime) -> None:
        self.today = self.day.day_of(at)
        following = self.day.next_after(at)
        assert self.deadline is not None
        self.next_day = following if following < self.deadline else None

    def next_due(self) -> datetime | None:
        if self.ended:
            return None
        return self.next_day or self.deadline

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        if at != self.deadline:
            self._step(at)
            return None
        self.ended = True
        self.today = self.day.day_of(at)
        assert self.opened_at is not None
        tz = self.day.tz
        return self.finding(
            "breach" if self.fails else "expire",
            at,
            f"The {self.days}-day trading period that began {local_text(self.opened_at, tz)} "
            f"ended at {local_text(at, tz)} before every objective was met; "
            f"{CONSEQUENCES['fail' if self.fails else 'expire']}.",
            deadline=utc(at),
            days=str(self.days),
        )

    def extend(self, days: int, at: datetime, account: Account) -> None:
        """The deadline moves ``days`` calendar days later (same wall-clock time, own zone)."""
        if self.deadline is None:
            return
        deadline = local_days_later(self.deadline, days, self.day.tz)
        if self.aligned:
            deadline = boundary_at_or_after(self.day, deadline)
        self.days += days
        self.deadline = deadline
        self.last_day = day_before(deadline, self.day)
        # A deadline still in the past stays due: it is decided at once.
        self.ended = False
        if deadline > at:
            self._step(at)
        else:
            self.next_day = None

    def days_left(self) -> int:
        """Trading days left, today included (0 once the period has ended)."""
        if self.ended or self.last_day is None or self.today is None:
            return 0
        return max((self.last_day - self.today).days + 1, 0)

    def objective(self, account: Account) -> dict[str, Any]:
        if self.deadline is None:
            return {"status": "not_started", "days": self.days, "text": "time limit"}
        left = self.days_left()
        when = local_text(self.deadline, self.day.tz)
        assert self.last_day is not None
        return {
            "status": ("failed" if self.fails else "expired") if self.ended else "running",
            "days": self.days,
            "deadline": utc(self.deadline),
            "last_day": self.last_day.isoformat(),
            "days_left": left,
            "text": (
                f"the trading period ended at {when}"
                if self.ended
                else f"the trading period ends at {when} ({left} day{'s' * (left != 1)} left, "
                "today included)"
            ),
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        day = params.get("day") or context.trading_day.spec
        days = params["days"]
        text = (
            f"You have {days} calendar day{'s' * (days != 1)} from the account's opening to meet "
            f"the objectives (days in {day['timezone']} time)"
        )
        if params.get("ends_at_day_end"):
            text += f", until the end of that trading day at {day['time']}"
        consequence = CONSEQUENCES[params.get("consequence", "expire")]
        return f"{text}. After that {consequence}."
