"""The engine's objectives as a trader reads them: each rule's state with a meter and, for the
rules with a clock, the time left. Pure: it shapes the engine's own explanation
(``engine.views.explain``) and recomputes no rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from propdesk.engine.curve import CurvePoint
from propdesk.rules.family import RuleFamily
from propdesk.web.templating import money

#: The clocks a rule's objective may name, what each means, and whether it is counted down
#: (the near ones) or shown as a date (a deadline weeks away).
CLOCKS = (
    ("resets_at", "Resets in", True),
    ("next_deadline", "Flat by", True),
    ("next_update_at", "Floor moves in", True),
    ("deadline", "Ends", False),
)
#: Headroom left, as a share of the rule's allowance, below which the meter warns / alarms.
WARN, ALARM = Decimal("0.5"), Decimal("0.25")
#: What a status says by itself (otherwise a floor's headroom sets the tone).
TONES = {
    "met": "good",
    "payout_allowed": "good",
    "breached": "bad",
    "payout_refused": "bad",
    "paused": "warn",
}


@dataclass(frozen=True, slots=True)
class Objective:
    rule: str
    family: str
    title: str
    status: str
    #: The rule's own words, in numbers.
    text: str
    #: The level that matters (a floor, a target), as money, or "".
    level: str
    level_label: str
    #: 0 to 1 for the meter, or None when the rule has nothing to measure.
    ratio: Decimal | None
    meter: str
    tone: str
    #: The ISO time of the rule's next moment (a reset, a deadline), or "".
    clock: str
    clock_label: str
    #: Counted down live (near moments) rather than shown as a date.
    countdown: bool


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _floor(o: Mapping[str, Any], currency: str) -> tuple[str, Decimal | None, str, str]:
    headroom, limit = _number(o.get("headroom")), _number(o.get("limit"))
    if headroom is None or not limit:
        return "", None, "", ""
    ratio = max(min(headroom / limit, Decimal(1)), Decimal(0))
    tone = "bad" if ratio <= ALARM else "warn" if ratio <= WARN else "good"
    return "Floor", ratio, f"{money(headroom, currency)} above the floor", tone


def _progress(o: Mapping[str, Any]) -> tuple[Decimal | None, str]:
    if (share := _number(o.get("progress_percent"))) is not None:
        return max(min(share / 100, Decimal(1)), Decimal(0)), f"{share}%"
    counted, required = _number(o.get("counted")), _number(o.get("required"))
    if counted is not None and required:
        return min(counted / required, Decimal(1)), f"{counted} of {required} days"
    share, limit = _number(o.get("ratio_percent")), _number(o.get("limit_percent"))
    if share is not None and limit:
        return min(share / limit, Decimal(1)), f"best {share}% of profit; at most {limit}%"
    return None, ""


def _clock(o: Mapping[str, Any]) -> tuple[str, str, bool]:
    for key, words, live in CLOCKS:
        if o.get(key):
            return str(o[key]), words, live
    return "", "", False


def shape(
    objectives: Sequence[Mapping[str, Any]],
    families: Mapping[str, type[RuleFamily]],
    currency: str,
) -> list[Objective]:
    """One ``Objective`` per rule, in the phase's order."""
    shaped = []
    for o in objectives:
        family = str(o.get("family") or "")
        known = families.get(family)
        status = str(o.get("status") or "")
        label, ratio, meter, tone = _floor(o, currency)
        level = money(o["floor"], currency) if label else ""
        if not label:
            ratio, meter = _progress(o)
            target = _number(o.get("target"))
            label, level = ("Target", money(target, currency)) if target is not None else ("", "")
        tone = TONES.get(status, tone)
        clock, clock_label, countdown = _clock(o)
        shaped.append(
            Objective(
                rule=str(o.get("rule") or family),
                family=family,
                title=known.display_name if known is not None else family.replace("_", " "),
                status=status,
                text=str(o.get("text") or ""),
                level=level,
                level_label=label,
                ratio=ratio,
                meter=meter,
                tone=tone,
                clock=clock,
                clock_label=clock_label,
                countdown=countdown,
            )
        )
    return shaped


def current_floors(objectives: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Each floor rule's floor now, by family (today's, before the engine has written the
    day)."""
    return {
        str(o["family"]): floor
        for o in objectives
        if o.get("family") in ("daily_loss", "max_loss") and (floor := _number(o.get("floor")))
    }


def chart_spec(
    points: Sequence[CurvePoint], floors_now: Mapping[str, Decimal], label_format: str
) -> dict[str, Any]:
    """The equity chart: balance and equity, and the two floors as dashed lines."""
    daily = [p.daily_floor for p in points]
    max_loss = [p.max_loss_floor for p in points]
    today = points[-1].day if points else None
    for series, family in ((daily, "daily_loss"), (max_loss, "max_loss")):
        # Today's floors may not be written yet: they are the objectives' floors now.
        for i, point in enumerate(points):
            if series[i] is None and point.day == today and family in floors_now:
                series[i] = floors_now[family]
    datasets: list[dict[str, Any]] = [
        {"label": "Balance", "data": [str(p.balance) for p in points]},
        {"label": "Equity", "data": [str(p.equity) for p in points]},
    ]
    for name, series in (("Daily-loss floor", daily), ("Maximum-loss floor", max_loss)):
        if any(v is not None for v in series):
            data = [str(v) if v is not None else None for v in series]
            datasets.append({"label": name, "data": data, "dash": True})
    return {
        "type": "line",
        "labels": [p.time.strftime(label_format) for p in points],
        "datasets": datasets,
    }
