"""The leadership view (``/leadership``): figures across desks, from the same report the JSON
API and the CSV export serve (``propdesk.reports``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from propdesk.errors import InvalidInput
from propdesk.http.deps import RuntimeDep, SessionDep
from propdesk.reports.figures import Consolidated
from propdesk.reports.period import CUSTOM, PRESETS
from propdesk.reports.routes import READ, First, Last, Preset
from propdesk.reports.service import report
from propdesk.web.leadership import charts
from propdesk.web.pages import area_router, render

CHOICES = [*PRESETS.items(), (CUSTOM, "Custom dates")]
CSV = "/api/reports/consolidated.csv"


def _csv_link(found: Consolidated) -> str:
    """The export of exactly the days shown (a preset could mean other days tomorrow)."""
    period = found.period
    query = {"period": CUSTOM, "to": period.last.isoformat()}
    if period.first is not None:
        query["from"] = period.first.isoformat()
    return f"{CSV}?{urlencode(query)}"


@get("/", opt=READ, name="leadership")
async def overview(
    request: Request[Any, Any, Any],
    session: SessionDep,
    runtime: RuntimeDep,
    period: Preset = None,
    first: First = None,
    last: Last = None,
) -> Template:
    asked = {"period": period or "", "from": first or "", "to": last or ""}
    try:
        found = await report(runtime, preset=period, first=first, last=last)
    except InvalidInput as exc:
        return await render(
            request,
            session,
            "leadership/overview.html",
            status=exc.status,
            report=None,
            problems=exc.problems,
            errors={p.field: p.message for p in exc.problems},
            choices=CHOICES,
            asked=asked,
        )
    if found.period.preset != CUSTOM:
        asked = {"period": found.period.preset, "from": "", "to": ""}
    else:
        asked = {**asked, "period": CUSTOM}
    return await render(
        request,
        session,
        "leadership/overview.html",
        report=found,
        problems=[],
        errors={},
        choices=CHOICES,
        asked=asked,
        csv_link=_csv_link(found),
        by_desk=charts.by_desk(found),
        pass_rates=charts.pass_rates(found),
        over_time=charts.over_time(found),
    )


ROUTER = area_router("/leadership", "leadership", [overview])
