"""The period a report covers, and the buckets its charts are drawn in: pure, no I/O.

Days are UTC days: desks sit in different timezones, and one consolidated figure needs one
clock. A period is whole days, ``first`` to ``last`` inclusive; all time has no ``first``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from propdesk.errors import FieldProblem, InvalidInput

#: The picker's choices, in the order it shows them.
PRESETS: dict[str, str] = {
    "mtd": "This month to date",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
}
DEFAULT = "mtd"
CUSTOM = "custom"
_DAYS = {"7d": 7, "30d": 30, "90d": 90}

Granularity = Literal["day", "week", "month"]
#: Longest spans still drawn by day and by week (longer ones by month).
DAILY_UP_TO = 62
WEEKLY_UP_TO = 731


@dataclass(frozen=True, slots=True)
class Period:
    #: A key of ``PRESETS``, or ``custom`` for explicit dates.
    preset: str
    #: The first day (None: from the beginning).
    first: date | None
    #: The last day, included.
    last: date

    @property
    def label(self) -> str:
        if self.preset in PRESETS:
            return PRESETS[self.preset]
        if self.first is None:
            return f"Up to {self.last.isoformat()}"
        return f"{self.first.isoformat()} to {self.last.isoformat()}"

    @property
    def start(self) -> datetime | None:
        """The first instant included (UTC), or None for all time."""
        return None if self.first is None else _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC)."""
        return _midnight(self.last + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def period_of(*, preset: str | None, first: str | None, last: str | None, today: date) -> Period:
    """The period asked for: a preset, or ``custom`` with ISO dates ``first`` and ``last``
    (either may be left out). Dates without a preset are custom; nothing at all is this
    month to date.

    :raises InvalidInput: naming ``period``, ``from`` or ``to``.
    """
    preset = (preset or "").strip()
    first, last = (first or "").strip(), (last or "").strip()
    if preset == CUSTOM or (not preset and (first or last)):
        return _custom(first, last, today)
    preset = preset or DEFAULT
    if preset == "mtd":
        return Period(preset, today.replace(day=1), today)
    if preset in _DAYS:
        return Period(preset, today - timedelta(days=_DAYS[preset] - 1), today)
    if preset == "all":
        return Period(preset, None, today)
    choices = ", ".join(PRESETS)
    raise InvalidInput(
        f"there is no period {preset!r}",
        problems=[FieldProblem("period", f"one of {choices}, or custom with from and to")],
    )


def _custom(first: str, last: str, today: date) -> Period:
    if not (first or last):
        raise InvalidInput(
            "a custom period needs its dates",
            problems=[FieldProblem("from", "the first day, or pick a period")],
        )
    problems: list[FieldProblem] = []
    start = _date(first, "from", problems) if first else None
    end = _date(last, "to", problems) if last else today
    if start is not None and end is not None and start > end:
        problems.append(FieldProblem("to", f"{end.isoformat()} is before {start.isoformat()}"))
    if problems or end is None:
        raise InvalidInput("the period is not valid", problems=problems)
    return Period(CUSTOM, start, end)


def _date(text: str, field: str, problems: list[FieldProblem]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(FieldProblem(field, f"{text!r} is not a date like 2025-03-31"))
        return None


def granularity(first: date, last: date) -> Granularity:
    """Days for up to two months, weeks for up to two years, months beyond."""
    days = (last - first).days + 1
    if days <= DAILY_UP_TO:
        return "day"
    return "week" if days <= WEEKLY_UP_TO else "month"


def bucket_of(day: date, step: Granularity) -> date:
    """The first day of the bucket ``day`` falls in (weeks start on Monday)."""
    if step == "week":
        return day - timedelta(days=day.weekday())
    if step == "month":
        return day.replace(day=1)
    return day


def buckets(first: date, last: date, step: Granularity) -> list[date]:
    """Every bucket from the one holding ``first`` to the one holding ``last``, empty or not."""
    found, day = [], bucket_of(first, step)
    while day <= last:
        found.append(day)
        if step == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if step == "week" else 1)
    return found
