"""Economic-calendar releases, and the core's ``static`` calendar listed in a desk's settings.

A calendar plugin maps its source's impact scale onto ``high``, ``medium`` and ``low`` and each
release onto the instruments it moves (``USD`` news moves ``EURUSD``, ``US30``, ...); the engine
writes each release into the journals as a ``news`` event ahead of its time
(``events.news_from_release``), where news-window rules read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from jsonschema import Draft202012Validator

from propdesk.errors import FieldProblem, InvalidInput
from propdesk.rules.events import parse_time

IMPACTS = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class CalendarRelease:
    """One scheduled release: when, what, how much it moves markets, and which instruments."""

    at: datetime
    title: str
    impact: str
    symbols: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"release {self.title!r}: time {self.at} has no UTC offset")
        if self.impact not in IMPACTS:
            raise ValueError(
                f"release {self.title!r}: impact {self.impact!r} is not one of {IMPACTS}"
            )
        # The same canonical form as a parsed news event: sorted, without repeats.
        object.__setattr__(self, "symbols", tuple(sorted(set(self.symbols))))


#: Settings of the ``static`` calendar (the ``propdesk.calendar`` plugin's tenant settings).
STATIC_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "releases": {
            "type": "array",
            "default": [],
            "description": "Scheduled releases; times are ISO-8601 strings with an offset.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["at", "title", "symbols"],
                "properties": {
                    "at": {"type": "string", "description": "e.g. 2026-03-06T13:30:00Z"},
                    "title": {"type": "string", "minLength": 1},
                    "impact": {"enum": list(IMPACTS), "default": "high"},
                    "symbols": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "description": "Instruments the release moves, as the platform names them.",
                    },
                },
            },
        }
    },
}


def parse_static_releases(settings: Mapping[str, Any]) -> list[CalendarRelease]:
    """The releases of ``static`` calendar settings, by time; every problem with its pointer."""
    settings = dict(settings)
    validator = Draft202012Validator(STATIC_SETTINGS_SCHEMA)
    problems = [
        FieldProblem("/" + "/".join(str(p) for p in error.absolute_path), error.message)
        for error in sorted(validator.iter_errors(settings), key=lambda e: list(e.absolute_path))
    ]
    releases = []
    if not problems:
        for index, item in enumerate(settings.get("releases", [])):
            try:
                at = parse_time(item["at"])
            except ValueError as exc:
                problems.append(FieldProblem(f"/releases/{index}/at", str(exc)))
                continue
            releases.append(
                CalendarRelease(
                    at, item["title"], item.get("impact", "high"), tuple(item["symbols"])
                )
            )
    if problems:
        raise InvalidInput("invalid static calendar settings", problems=problems)
    return sorted(releases, key=lambda release: (release.at, release.title))


class StaticCalendar:
    """Releases a desk lists itself in its settings: no vendor, no network."""

    code: ClassVar[str] = "static"
    display_name: ClassVar[str] = "Static calendar (releases listed in the desk's settings)"
    settings_schema: ClassVar[dict[str, Any]] = STATIC_SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._releases = parse_static_releases(settings)

    async def releases(self, start: datetime, end: datetime) -> list[CalendarRelease]:
        """Releases at or after ``start`` and before ``end``, by time."""
        return [release for release in self._releases if start <= release.at < end]
