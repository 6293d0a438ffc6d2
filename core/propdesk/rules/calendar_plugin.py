"""The core's economic calendar (``static``), registered through the plugin contract."""

from __future__ import annotations

from typing import Any

from propdesk.plugins.components import EconomicCalendar
from propdesk.plugins.markers import hookimpl
from propdesk.rules.calendar import STATIC_SETTINGS_SCHEMA, StaticCalendar


@hookimpl
def propdesk_register_economic_calendars() -> list[type[EconomicCalendar]]:
    return [StaticCalendar]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return STATIC_SETTINGS_SCHEMA
