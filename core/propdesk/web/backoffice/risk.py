"""The breach and near-breach queue: what rules decided lately, the accounts closest to a
floor, the engine's data-quality alerts and the open risk cases. The queue refreshes itself
(``/risk/live``, polled by HTMX) so a new breach shows without reloading."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.engine import views
from propdesk.http.deps import SessionDep
from propdesk.lifecycle import service as challenges
from propdesk.risk import service as risk
from propdesk.web.backoffice.common import query_string
from propdesk.web.pages import can, render

READ = requires("challenges", "read")
#: How many of the latest decisions the queue shows.
RECENT = 50
REFRESH_SECONDS = 5


async def _queue(request: Request[Any, Any, Any], session: AsyncSession) -> dict[str, Any]:
    within_text = request.query_params.get("within") or ""
    within = views.parse_within(within_text)
    found: dict[str, Any] = {
        "within": f"{within.normalize():f}",
        "live_url": "/backoffice/risk/live" + query_string(within=within_text),
        "refresh": REFRESH_SECONDS,
        "decisions": await challenges.recent_decisions(session, limit=RECENT),
        "near": None,
        "alerts": None,
        "cases": None,
    }
    if can(request, "engine", "read"):
        found["near"] = await views.near_breach(session, within=within, limit=views.MAX_LIMIT)
        found["alerts"] = await views.alerts(session, open_=True)
    if can(request, "risk_cases", "read"):
        found["cases"] = await risk.list_cases(session, status="open")
    return found


@get("/risk", opt=READ)
async def risk_queue(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    """Breaches, near-breaches, data alerts and risk cases, refreshed every few seconds."""
    return await render(request, session, "backoffice/risk.html", **await _queue(request, session))


@get("/risk/live", opt=READ)
async def risk_live(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    """The queue alone, for the page to swap in."""
    return await render(
        request, session, "backoffice/_risk_live.html", **await _queue(request, session)
    )


HANDLERS = [risk_queue, risk_live]
