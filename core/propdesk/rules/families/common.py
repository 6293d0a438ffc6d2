"""Helpers the target and time-based families share: local calendar days and percentages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from propdesk.rules.clock import LocalTime
from propdesk.rules.family import local_time_schema

WHOLE = Decimal(1)
HUNDREDTH = Decimal("0.01")
_TICK = timedelta(microseconds=1)


#: The ``day`` of rules that count calendar days: their timezone and where a day ends.
CALENDAR_DAY_SCHEMA = local_time_schema(
    "Timezone of the calendar days and the day end (default: the product's day)."
)


class TradingDays:
    """``LocalTime.day_of`` that remembers the current day, so most calls are two comparisons."""

    __slots__ = ("boundary", "day", "end", "start")

    def __init__(self, boundary: LocalTime) -> None:
        self.boundary = boundary
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.day: date | None = None

    def of(self, instant: datetime) -> date:
        """The trading day ``instant`` belongs to (named as ``LocalTime.name_of`` says)."""
        if self.start is not None and self.end is not None and self.start <= instant < self.end:
            assert self.day is not None
            return self.day
        self.start = self.boundary.last_at_or_before(instant)
        # From the boundary, not the instant: boundaries are what clock's cache is shared on.
        self.end = self.boundary.next_after(self.start)
        self.day = self.boundary.name_of(self.start)
        return self.day

    def end_of(self, instant: datetime) -> datetime:
        """The instant the trading day of ``instant`` ends (the next boundary)."""
        self.of(instant)
        assert self.end is not None
        return self.end


def local_days_later(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same wall-clock time ``days`` calendar days later (or earlier) in ``tz``.

    Across a daylight-saving change this is 23 or 25 hours a day, not 24: 30 days after
    10:00 in Prague is 10:00 in Prague. A wall time skipped by the change falls just after it.
    """
    local = instant.astimezone(tz)
    wall = LocalTime(local.time(), tz)
    wanted = local.date() + timedelta(days=days)
    # The occurrence on the wanted day is within a few hours of ``days`` x 24 hours later.
    found = wall.next_after(instant + timedelta(days=days, hours=-12))
    while found.astimezone(tz).date() < wanted:
        found = wall.next_after(found)
    while found.astimezone(tz).date() > wanted:
        found = wall.last_at_or_before(found - _TICK)
    return found


def boundary_at_or_after(boundary: LocalTime, instant: datetime) -> datetime:
    """``instant`` if it is a day boundary, else the end of the trading day it falls in."""
    last = boundary.last_at_or_before(instant)
    return instant if last == instant else boundary.next_after(instant)


def day_before(instant: datetime, boundary: LocalTime) -> date:
    """The trading day of the last moment before ``instant`` (the last day of a period)."""
    return boundary.day_of(instant - _TICK)


def local_text(instant: datetime, tz: ZoneInfo) -> str:
    """An instant for people, in the rule's timezone: ``2026-04-19 10:00 Europe/Prague``."""
    return f"{instant.astimezone(tz).strftime('%Y-%m-%d %H:%M')} {tz.key}"


def percent_text(value: Decimal) -> str:
    """A percentage for people, without trailing zeros: ``50%``, ``32.5%``."""
    text = format(value.normalize(), "f")
    return f"{text}%"


def share_text(share: Decimal, limit: Decimal) -> str:
    """A share compared with a limit, in whole percent unless rounding would hide the side.

    50.4% against "at most 50%" reads 50.01% or more, never 50%; 49.6% against "at most 49.6%"
    is shown as is.
    """
    whole = share.quantize(WHOLE, rounding=ROUND_HALF_UP)
    if (whole <= limit) == (share <= limit):
        return percent_text(whole)
    rounding = ROUND_FLOOR if share <= limit else ROUND_CEILING
    return percent_text(share.quantize(HUNDREDTH, rounding=rounding))
