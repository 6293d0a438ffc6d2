"""Economic calendars: the hook, the core ``static`` calendar, and news events from releases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers_guards import deal
from rulekit import evaluate, events, opened, rule

from propdesk.errors import InvalidInput, ManifestError
from propdesk.plugins.manager import PluginHost
from propdesk.rules.calendar import CalendarRelease, StaticCalendar
from propdesk.rules.events import canonical, news_from_release
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import parse_manifest

SETTINGS = {
    "releases": [
        {
            "at": "2026-03-06T13:30:00Z",
            "title": "US Non-Farm Payrolls",
            "symbols": ["US30", "EURUSD", "EURUSD"],
        },
        {
            "at": "2026-03-05T14:15:00+01:00",
            "title": "ECB rate decision",
            "impact": "medium",
            "symbols": ["EURUSD"],
        },
    ]
}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_static_calendar_lists_the_releases_of_a_period_by_time() -> None:
    calendar = StaticCalendar(SETTINGS)
    week = await calendar.releases(instant("2026-03-02T00:00:00Z"), instant("2026-03-09T00:00:00Z"))
    assert [(r.title, r.impact, r.symbols) for r in week] == [
        ("ECB rate decision", "medium", ("EURUSD",)),
        ("US Non-Farm Payrolls", "high", ("EURUSD", "US30")),
    ]
    # The period includes its start and excludes its end.
    nfp = instant("2026-03-06T13:30:00Z")
    assert [r.title for r in await calendar.releases(nfp, instant("2026-03-07T00:00:00Z"))] == [
        "US Non-Farm Payrolls"
    ]
    assert await calendar.releases(instant("2026-03-06T00:00:00Z"), nfp) == []


def test_static_calendar_settings_errors_name_the_field() -> None:
    bad = {
        "releases": [
            {"at": "2026-03-06T13:30:00", "title": "NFP", "symbols": ["US30"]},
            {"at": "2026-03-06T13:30:00Z", "title": "CPI", "impact": "red", "symbols": []},
        ]
    }
    with pytest.raises(InvalidInput) as caught:
        StaticCalendar(bad)
    assert [p.field for p in caught.value.problems] == ["/releases/1/impact"]
    with pytest.raises(InvalidInput) as caught:
        StaticCalendar({"releases": [bad["releases"][0]]})
    assert [str(p) for p in caught.value.problems] == [
        "/releases/0/at: '2026-03-06T13:30:00' has no UTC offset "
        "(write e.g. 2026-03-02T09:30:00+01:00)"
    ]
    assert StaticCalendar({}) is not None  # no releases is a valid calendar


def test_a_release_must_be_an_instant_with_a_known_impact() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        CalendarRelease(datetime(2026, 3, 6, 13, 30), "NFP", "high", ("US30",))
    with pytest.raises(ValueError, match="impact 'red'"):
        CalendarRelease(datetime(2026, 3, 6, 13, 30, tzinfo=UTC), "NFP", "red", ("US30",))


def test_a_release_becomes_a_news_event_the_window_rule_reads() -> None:
    release = CalendarRelease(
        instant("2026-03-06T13:30:00Z"), "US Non-Farm Payrolls", "high", ("US30", "EURUSD")
    )
    event = news_from_release(release, known_at=instant("2026-03-06T06:00:00Z"))
    assert canonical(event) == {
        "type": "news",
        "time": "2026-03-06T06:00:00Z",
        "at": "2026-03-06T13:30:00Z",
        "title": "US Non-Farm Payrolls",
        "symbols": ["EURUSD", "US30"],
        "impact": "high",
    }
    run = evaluate([rule("news_window", {})], [opened("2026-03-06T05:00:00Z")])
    run.feed(event)
    run.feed_all(events(deal("2026-03-06T13:31:00Z", "1")))
    assert run.status == "failed"
    assert "US Non-Farm Payrolls" in run.verdict()["explanation"]


def test_the_static_calendar_is_registered_for_every_desk() -> None:
    host = PluginHost.load(Settings(load_entrypoints=False))
    calendars = host.component("propdesk_register_economic_calendars")
    assert calendars.get("static") is StaticCalendar
    assert calendars.for_tenant(TenantContext("any")) == {"static": StaticCalendar}
    info = {i.name: i for i in host.plugins_info()}
    assert info["propdesk.calendar"].core


def test_a_desk_configures_the_static_calendar_in_its_manifest() -> None:
    host = PluginHost.load(Settings(load_entrypoints=False))
    ok = parse_manifest(
        {
            "display_name": "Desk",
            "base_currency": "USD",
            "timezone": "UTC",
            "plugins": {"propdesk.calendar": SETTINGS},
        },
        slug="desk",
        source="tenant.toml",
        host=host,
    )
    assert ok.plugins["propdesk.calendar"] == SETTINGS
    with pytest.raises(ManifestError) as refused:
        parse_manifest(
            {
                "display_name": "Desk",
                "base_currency": "USD",
                "timezone": "UTC",
                "plugins": {"propdesk.calendar": {"releases": [{"title": "NFP"}]}},
            },
            slug="desk",
            source="tenant.toml",
            host=host,
        )
    assert [p.field for p in refused.value.problems] == [
        "/plugins/propdesk.calendar/releases/0/at",
        "/plugins/propdesk.calendar/releases/0/symbols",
    ]
    with pytest.raises(ManifestError):  # a core default without settings is not a desk's choice
        parse_manifest(
            {
                "display_name": "Desk",
                "base_currency": "USD",
                "timezone": "UTC",
                "plugins": {"propdesk.access": {}},
            },
            slug="desk",
            source="tenant.toml",
            host=host,
        )
