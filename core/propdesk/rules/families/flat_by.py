"""Flat by a deadline: no position may be open at a scheduled local time (weekend, intraday).

The deadline is a local time in an IANA timezone on chosen weekdays (default: every day), so
"Friday 21:45 Europe/London" is 21:45 UTC in winter and 20:45 UTC in summer. It is decided at
that instant even when no event arrives; a deal at the very instant counts as before it (the
evaluator applies events before the dues at their time). With severity ``pause`` the account
is paused until the product's next trading-day boundary, then resumes; ``warn`` records a
warning at every missed deadline. A position opened after a deadline is judged at the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.clock import WEEKDAYS, LocalTime, utc
from propdesk.rules.families.max_position import lots
from propdesk.rules.family import Finding, Outcome, PhaseContext, RuleFamily
from propdesk.rules.money import plain

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OUTCOMES: dict[str, Outcome] = {"fail": "breach", "pause": "pause", "warn": "warn"}
CONSEQUENCES = {
    "fail": "fails the account",
    "pause": "pauses trading until the next trading day starts",
    "warn": "is recorded as a warning",
}
#: Positions named one by one in an explanation; more are counted.
SHOWN_POSITIONS = 5


def _schedule(params: Mapping[str, Any], context: PhaseContext) -> tuple[LocalTime, list[str]]:
    spec = params.get("schedule")
    if not spec:
        return context.trading_day, []
    timezone = spec.get("timezone") or context.trading_day.tz.key
    return LocalTime.parse({"time": spec["time"], "timezone": timezone}), spec.get("days", [])


def _when(days: list[str]) -> str:
    if not days or len(days) == len(WEEKDAYS):
        return "every day"
    names = [DAY_NAMES[WEEKDAYS.index(day)] for day in sorted(days, key=WEEKDAYS.index)]
    if len(names) == 1:
        return f"every {names[0]}"
    return "on " + ", ".join(f"{n}s" for n in names[:-1]) + f" and {names[-1]}s"


class FlatBy(RuleFamily):
    code = "flat_by"
    display_name = "Flat by a deadline"
    timed = True
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "schedule": {
                "type": "object",
                "additionalProperties": False,
                "required": ["time"],
                "description": "When every position must be closed (default: the product's "
                "trading-day boundary, every day).",
                "properties": {
                    "time": {
                        "type": "string",
                        "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
                        "description": "Local time of the deadline, HH:MM.",
                    },
                    "timezone": {
                        "type": "string",
                        "format": "iana-timezone",
                        "description": "IANA timezone (default: the product's trading-day one).",
                    },
                    "days": {
                        "type": "array",
                        "items": {"enum": list(WEEKDAYS)},
                        "minItems": 1,
                        "uniqueItems": True,
                        "description": 'Weekdays with a deadline, e.g. ["fri"] for the '
                        "weekend (default: every day).",
                    },
                },
            },
            "severity": {
                "enum": list(CONSEQUENCES),
                "default": "fail",
                "description": "fail: the account fails; pause: paused until the next trading "
                "day; warn: a warning, trading goes on.",
            },
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.schedule, days = _schedule(params, context)
        self.days = frozenset(WEEKDAYS.index(day) for day in days) or None
        self.when = _when(days)
        self.severity = params.get("severity", "fail")
        self.deadline: datetime | None = None
        self.resumes_at: datetime | None = None
        self.missed = 0

    def start(self, account: Account, at: datetime) -> Finding | None:
        self.deadline = self.schedule.next_after(at, self.days)
        return None

    def next_due(self) -> datetime | None:
        dues = [due for due in (self.deadline, self.resumes_at) if due is not None]
        return min(dues) if dues else None

    def on_due(self, at: datetime, account: Account) -> Finding | None:
        resuming = self.resumes_at == at
        if resuming:
            self.resumes_at = None
        if self.deadline == at:
            self.deadline = self.schedule.next_after(at, self.days)
            if account.positions:
                # A deadline missed at the very boundary keeps the account paused.
                return self._missed(at, account)
        if resuming:
            return self.finding(
                "resume",
                at,
                f"The trading day restarted at {self.context.trading_day.describe()}: "
                "trading resumes.",
            )
        return None

    def _missed(self, at: datetime, account: Account) -> Finding:
        self.missed += 1
        positions = list(account.positions.items())
        shown = [
            f"position {pid}: {p.side} {p.symbol} {lots(p.volume)}"
            for pid, p in positions[:SHOWN_POSITIONS]
        ]
        if len(positions) > SHOWN_POSITIONS:
            shown.append(f"{len(positions) - SHOWN_POSITIONS} more")
        count = f"{len(positions)} position{'s were' if len(positions) != 1 else ' was'}"
        local = at.astimezone(self.schedule.tz)
        text = (
            f"At the deadline {local.strftime('%a %Y-%m-%d %H:%M')} {self.schedule.tz.key} "
            f"{count} still open ({', '.join(shown)}; {lots(account.open_lots)} in total); "
            f"the account must be flat by {self.schedule.describe()} {self.when}"
        )
        if self.severity == "pause":
            self.resumes_at = self.context.trading_day.next_after(at)
            text += (
                f"; trading is paused until the next trading day starts at "
                f"{self.context.trading_day.describe()} ({utc(self.resumes_at)})"
            )
        return self.finding(
            OUTCOMES[self.severity],
            at,
            text + ".",
            open_positions=str(len(positions)),
            open_lots=account.open_lots,
            deadline=utc(at),
        )

    def objective(self, account: Account) -> dict[str, Any]:
        if self.resumes_at is not None:
            status = "paused"
        elif self.missed and self.severity == "fail":
            status = "breached"
        elif self.missed and self.severity == "warn":
            status = "warned"
        else:
            status = "ok"
        return {
            "status": status,
            "next_deadline": utc(self.deadline) if self.deadline else None,
            "open_positions": len(account.positions),
            "open_lots": plain(account.open_lots),
            "missed_deadlines": self.missed,
            "resumes_at": utc(self.resumes_at) if self.resumes_at else None,
            "text": f"flat by {self.schedule.describe()} {self.when}",
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        schedule, days = _schedule(params, context)
        consequence = CONSEQUENCES[params.get("severity", "fail")]
        if params.get("severity") == "pause":
            consequence += f" ({context.trading_day.describe()})"
        return (
            f"All positions must be closed by {schedule.describe()} {_when(days)}. "
            f"A position still open then {consequence}."
        )
