"""The leadership view's charts, as specs for ``_ui.chart`` (static/charts.js draws them).

Values are decimal strings: money in the reporting currency, pass rates in percent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from propdesk.reports.figures import Consolidated, PhaseOutcome

PERCENT = Decimal("0.01")


def _percent(outcome: PhaseOutcome | None) -> str | None:
    rate = outcome.rate if outcome is not None else None
    return None if rate is None else str((rate * 100).quantize(PERCENT))


def by_desk(report: Consolidated) -> dict[str, Any] | None:
    """Revenue beside payouts for each desk that converts (None: no such desk)."""
    desks = [d for d in report.desks if d.converted is not None]
    if not desks:
        return None
    return {
        "type": "bar",
        "zero": True,
        "labels": [d.desk.name for d in desks],
        "datasets": [
            {"label": "Revenue", "data": [str(d.converted.revenue) for d in desks if d.converted]},
            {"label": "Payouts", "data": [str(d.converted.payouts) for d in desks if d.converted]},
        ],
    }


def pass_rates(report: Consolidated) -> dict[str, Any] | None:
    """Pass rate per phase, all desks together and, beside it, each desk with verdicts."""
    phases = [p.phase for p in report.phases]
    if not phases:
        return None
    datasets = [{"label": "All desks", "data": [_percent(p) for p in report.phases]}]
    if len(report.desks) > 1:
        for desk in report.desks:
            mine = {p.phase: p for p in desk.activity.phases}
            if mine:
                data = [_percent(mine.get(phase)) for phase in phases]
                datasets.append({"label": desk.desk.name, "data": data})
    return {
        "type": "bar",
        "zero": True,
        "labels": [f"Phase {phase}" for phase in phases],
        "datasets": datasets,
    }


def over_time(report: Consolidated) -> dict[str, Any] | None:
    """Revenue and payouts per day, week or month (None while a rate is missing)."""
    series = report.series
    if series is None:
        return None
    return {
        "type": "line",
        "zero": True,
        "labels": [start.isoformat() for start in series.starts],
        "datasets": [
            {"label": "Revenue", "data": [str(v) for v in series.revenue]},
            {"label": "Payouts", "data": [str(v) for v in series.payouts], "dash": True},
        ],
    }
