"""The desk at a glance: challenges by status, purchases, payouts waiting, what needs a look."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.response import Template

from propdesk.access.permissions import requires
from propdesk.engine import views
from propdesk.http.deps import SessionDep, TenantDep
from propdesk.lifecycle import service as challenges
from propdesk.orders import service as orders
from propdesk.payouts import service as payouts
from propdesk.payouts.workflow import PENDING_REVIEW
from propdesk.risk import service as risk
from propdesk.web.brand import brand_of
from propdesk.web.pages import can, render

#: Days the purchases chart looks back.
CHART_DAYS = 14
#: Statuses in which a challenge trades.
TRADING = ("active", "funded", "paused")
#: Each status's slice of the chart, in the badges' colours.
STATUS_COLOURS = {
    "awaiting_payment": "#CBD5E1",
    "provisioning": "#94A3B8",
    "active": "#15803D",
    "funded": "#0F766E",
    "paused": "#B45309",
    "passed": "#3B82F6",
    "failed": "#B91C1C",
    "expired": "#64748B",
    "cancelled": "#E2E8F0",
}


def purchases_chart(
    rows: list[tuple[date, str, int, Decimal]], today: date, days: int = CHART_DAYS
) -> dict[str, Any]:
    """A bar chart of what was paid per day and currency (decimal strings, no floats)."""
    labels = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    totals: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for day, currency, _, total in rows:
        totals[currency][day] = total
    return {
        "type": "bar",
        "labels": [d.isoformat() for d in labels],
        "zero": True,
        "stacked": len(totals) > 1,
        "datasets": [
            {"label": currency, "data": [str(by_day.get(d, Decimal(0))) for d in labels]}
            for currency, by_day in sorted(totals.items())
        ],
    }


def status_chart(by_status: dict[str, int]) -> dict[str, Any]:
    """A doughnut of the challenges by status, each status in its colour."""
    return {
        "type": "doughnut",
        "labels": [s.replace("_", " ") for s in by_status],
        "datasets": [
            {
                "label": "Challenges",
                "data": [str(n) for n in by_status.values()],
                "backgroundColor": [STATUS_COLOURS.get(s, "#64748B") for s in by_status],
                "borderColor": "#FFFFFF",
            }
        ],
    }


@get("/", opt=requires("challenges", "read"))
async def desk(request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep) -> Template:
    """The desk at a glance."""
    brand = await brand_of(session, tenant)
    zone = ZoneInfo(brand.timezone)
    today = datetime.now(zone).date()
    by_status = await challenges.count_by_status(session)
    context: dict[str, Any] = {
        "by_status": by_status,
        "trading": sum(by_status.get(s, 0) for s in TRADING),
        "status_chart": status_chart(by_status),
        "today": today,
        "purchases": None,
        "waiting": None,
        "alerts": None,
        "near": None,
        "cases": None,
        "breaches": [],
    }
    if can(request, "orders", "read"):
        since = datetime.combine(today - timedelta(days=CHART_DAYS - 1), datetime.min.time(), zone)
        rows = await orders.paid_by_day(session, since.astimezone(UTC), brand.timezone)
        context["purchases"] = {
            "today": [(c, n, total) for d, c, n, total in rows if d == today],
            "chart": purchases_chart(rows, today),
        }
    if can(request, "payouts", "read"):
        context["waiting"] = (await payouts.count_by_status(session)).get(PENDING_REVIEW, 0)
    if can(request, "engine", "read"):
        context["alerts"] = len(await views.alerts(session, open_=True, limit=views.MAX_LIMIT))
        near = await views.near_breach(session, within=views.DEFAULT_WITHIN, limit=views.MAX_LIMIT)
        context["near"] = len(near)
    if can(request, "risk_cases", "read"):
        context["cases"] = len(await risk.list_cases(session, status="open"))
    context["breaches"] = await challenges.recent_decisions(session, limit=5)
    return await render(request, session, "backoffice/desk.html", **context)


HANDLERS = [desk]
