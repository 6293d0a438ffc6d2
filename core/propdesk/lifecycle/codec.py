"""Transitions as JSON (history rows) and back: ``{"event": …, "at": ISO UTC, …fields}``."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from propdesk.lifecycle.transitions import TRANSITIONS, Transition
from propdesk.rules.clock import utc
from propdesk.rules.events import parse_time

_BY_EVENT = {kind.event: kind for kind in TRANSITIONS}


def transition_to_json(transition: Transition) -> dict[str, Any]:
    data: dict[str, Any] = {"event": transition.event}
    for item in dataclasses.fields(transition):
        value = getattr(transition, item.name)
        data[item.name] = utc(value) if isinstance(value, datetime) else value
    return data


def transition_from_json(data: dict[str, Any]) -> Transition:
    kind = _BY_EVENT[data["event"]]
    values = {k: v for k, v in data.items() if k != "event"}
    values["at"] = parse_time(values["at"])
    return kind(**values)
