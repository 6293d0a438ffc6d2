"""Day boundaries follow the wall clock of the rule's timezone, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.rules.clock import LocalTime, is_timezone, utc

PRAGUE = LocalTime.parse({"time": "00:00", "timezone": "Europe/Prague"})
NEW_YORK = LocalTime.parse({"time": "17:00", "timezone": "America/New_York"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_prague_midnight_is_23_utc_in_winter_and_22_utc_in_summer() -> None:
    assert utc(PRAGUE.next_after(at("2026-01-15T12:00:00+00:00"))) == "2026-01-15T23:00:00Z"
    assert utc(PRAGUE.next_after(at("2026-07-15T12:00:00+00:00"))) == "2026-07-15T22:00:00Z"


def test_the_boundaries_around_the_spring_and_autumn_changes_in_prague() -> None:
    # Clocks go forward on 29 March 2026 and back on 25 October 2026.
    first = PRAGUE.next_after(at("2026-03-28T12:00:00+00:00"))
    second = PRAGUE.next_after(first)
    assert (utc(first), utc(second)) == ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
    assert second - first == timedelta(hours=23)  # the short day
    first = PRAGUE.next_after(at("2026-10-24T12:00:00+00:00"))
    second = PRAGUE.next_after(first)
    assert (utc(first), utc(second)) == ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
    assert second - first == timedelta(hours=25)  # the long day


def test_new_york_5pm_moves_with_daylight_saving() -> None:
    # DST starts 8 March 2026 and ends 1 November 2026 in New York.
    assert utc(NEW_YORK.next_after(at("2026-03-06T12:00:00+00:00"))) == "2026-03-06T22:00:00Z"
    assert utc(NEW_YORK.next_after(at("2026-03-09T12:00:00+00:00"))) == "2026-03-09T21:00:00Z"
    assert utc(NEW_YORK.next_after(at("2026-11-02T12:00:00+00:00"))) == "2026-11-02T22:00:00Z"


def test_a_local_time_skipped_by_the_change_falls_just_after_the_gap() -> None:
    reset = LocalTime.parse({"time": "02:30", "timezone": "Europe/Prague"})
    # 02:30 does not exist on 29 March 2026: the clock jumps from 02:00 to 03:00 (01:00 UTC).
    assert utc(reset.next_after(at("2026-03-28T12:00:00+00:00"))) == "2026-03-29T01:00:00Z"


def test_a_local_time_that_happens_twice_falls_on_the_first() -> None:
    reset = LocalTime.parse({"time": "02:30", "timezone": "Europe/Prague"})
    # 02:30 happens twice on 25 October 2026: first at 00:30 UTC (CEST), then 01:30 UTC (CET).
    assert utc(reset.next_after(at("2026-10-24T12:00:00+00:00"))) == "2026-10-25T00:30:00Z"


def test_the_trading_day_of_an_instant() -> None:
    # A session that opens at 17:00 is named after the next date (Sunday 17:00 opens Monday).
    assert str(NEW_YORK.day_of(at("2026-03-10T20:59:00+00:00"))) == "2026-03-10"
    assert str(NEW_YORK.day_of(at("2026-03-10T21:00:00+00:00"))) == "2026-03-11"
    assert str(PRAGUE.day_of(at("2026-03-10T22:59:00+00:00"))) == "2026-03-10"
    assert str(PRAGUE.day_of(at("2026-03-10T23:00:00+00:00"))) == "2026-03-11"


def test_only_iana_names_are_timezones() -> None:
    assert is_timezone("Europe/Prague") and is_timezone("UTC")
    assert not is_timezone("CEST")  # an abbreviation, not a zone: its offset is ambiguous
    assert (
        not is_timezone("Mars/Olympus") and not is_timezone("../etc/passwd") and not is_timezone("")
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300)
@given(instants, st.sampled_from([PRAGUE, NEW_YORK]))
def test_boundaries_are_at_the_local_time_and_a_day_apart(
    instant: datetime, clock: LocalTime
) -> None:
    boundary = clock.next_after(instant)
    local = boundary.astimezone(clock.tz)
    assert boundary > instant
    assert (local.hour, local.minute) == (clock.at.hour, clock.at.minute)
    assert clock.last_at_or_before(boundary) == boundary
    assert clock.last_at_or_before(instant) <= instant < boundary
    following = clock.next_after(boundary)
    assert following - boundary in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))
    # Two consecutive boundaries are on consecutive local dates.
    assert following.astimezone(clock.tz).date() - local.date() == timedelta(days=1)
