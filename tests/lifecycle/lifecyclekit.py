"""Building transitions and challenges from event names in the lifecycle tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from propdesk.lifecycle.machine import Challenge, apply
from propdesk.lifecycle.transitions import TRANSITIONS, Transition

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TWO_STEP = ("evaluation", "evaluation", "funded")
ONE_STEP = ("evaluation", "funded")
INSTANT = ("instant",)
V1, V2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64

BY_EVENT = {kind.event: kind for kind in TRANSITIONS}


def make(event: str, at: datetime, **fields: Any) -> Transition:
    """The transition ``event`` at ``at``, taking from ``fields`` only what it has."""
    kind = BY_EVENT[event]
    names = {field.name for field in dataclasses.fields(kind)}
    return kind(at=at, **{name: value for name, value in fields.items() if name in names})


def valid(event: str, at: datetime, state: Challenge) -> Transition:
    """A well-formed ``event`` for ``state`` (a resume names the pausing rule)."""
    return make(
        event,
        at,
        account=f"mt5:{1000 + len(state.history)}",
        rule=state.paused_by or "daily_loss",
        explanation=f"{event} for the test",
        actor="risk@desk.example",
        reason="reviewed by the risk desk",
        days=7,
        version_hash=V2 if state.version_hash != V2 else V1,
        balance="125000",
    )


def walk(phases: tuple[str, ...], *events: str, start: datetime = T0) -> Challenge:
    """A new challenge of ``phases`` after ``events``, one minute apart."""
    state = Challenge.start(phases, V1)
    for minute, event in enumerate(events):
        state = apply(state, valid(event, start + timedelta(minutes=minute), state))
    return state


def after(state: Challenge, minutes: int = 1) -> datetime:
    """An instant ``minutes`` after the last event of ``state``."""
    last = state.history[-1].at if state.history else T0
    return last + timedelta(minutes=minutes)
