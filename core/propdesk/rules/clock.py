"""Local times of day in an IANA timezone, and the UTC instants they fall on.

Day boundaries follow the wall clock of the rule's timezone, so a midnight reset in Prague is
23:00 UTC in winter and 22:00 UTC in summer. A local time that does not exist on a given day
(skipped by a daylight-saving change) falls on the first instant after the gap; one that
happens twice falls on the first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: JSON Schema of a local time of day in a timezone.
LOCAL_TIME_SCHEMA = {
    "type": "object",
    "required": ["time", "timezone"],
    "additionalProperties": False,
    "properties": {
        "time": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
        "timezone": {"type": "string", "format": "iana-timezone"},
    },
}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA timezone (e.g. Europe/Prague)") from None


def is_timezone(name: object) -> bool:
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return False
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _on(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``at`` on ``day`` in ``tz`` (gap: just after it; overlap: first)."""
    local = datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(UTC)
    # In a gap, fold=0 maps with the old offset; the result reads back as a later wall time.
    back = instant.astimezone(tz)
    if (back.hour, back.minute) != (at.hour, at.minute) and back.replace(
        tzinfo=None
    ) > datetime.combine(day, at):
        instant = _first_instant_after_gap(day, at, tz)
    return instant


def _first_instant_after_gap(day: date, at: time, tz: ZoneInfo) -> datetime:
    # The wall clock jumps forward; the first existing local time after ``at`` is the jump.
    probe = datetime.combine(day, at, tzinfo=tz).astimezone(UTC) - timedelta(hours=3)
    while probe.astimezone(tz).replace(tzinfo=None) < datetime.combine(day, at):
        probe += timedelta(minutes=1)
    return probe


@lru_cache(maxsize=1 << 16)
def _next_after(at: time, tz: ZoneInfo, instant: datetime, days: frozenset[int] | None) -> datetime:
    day = instant.astimezone(tz).date() - timedelta(days=1)
    for _ in range(10):
        if days is None or day.weekday() in days:
            candidate = _on(day, at, tz)
            if candidate > instant:
                return candidate
        day += timedelta(days=1)
    raise AssertionError("no boundary within ten days")  # days is never empty


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A time of day in a timezone, e.g. 17:00 America/Chicago."""

    at: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: dict[str, str]) -> LocalTime:
        hours, minutes = spec["time"].split(":")
        return cls(time(int(hours), int(minutes)), zone(spec["timezone"]))

    @property
    def spec(self) -> dict[str, str]:
        return {"time": self.at.strftime("%H:%M"), "timezone": self.tz.key}

    def next_after(self, instant: datetime, days: frozenset[int] | None = None) -> datetime:
        """The first instant strictly after ``instant`` at this local time (on ``days``)."""
        # Cached: every account on a desk asks for the same boundaries, mostly from the last one.
        return _next_after(self.at, self.tz, instant, days)

    def last_at_or_before(self, instant: datetime) -> datetime:
        """The latest boundary at or before ``instant``."""
        day = instant.astimezone(self.tz).date() + timedelta(days=1)
        while (candidate := _on(day, self.at, self.tz)) > instant:
            day -= timedelta(days=1)
        return candidate

    def day_of(self, instant: datetime) -> date:
        """The trading day ``instant`` belongs to (see ``name_of``)."""
        return self.name_of(self.last_at_or_before(instant))

    def name_of(self, start: datetime) -> date:
        """The date a trading day starting at ``start`` is named after: the local date it
        started on, or the next one for a day that starts in the afternoon or evening (the
        futures session that opens Sunday at 17:00 Chicago time is Monday's)."""
        day = start.astimezone(self.tz).date()
        return day + timedelta(days=1) if self.at.hour >= 12 else day

    def describe(self) -> str:
        return f"{self.at.strftime('%H:%M')} {self.tz.key}"


def utc(instant: datetime) -> str:
    """Canonical text of an instant: UTC, ISO-8601, seconds or microseconds as needed."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
