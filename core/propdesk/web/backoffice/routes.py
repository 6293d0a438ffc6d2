"""The desk's back office (``/backoffice/`` on the desk's domain)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import func, select

from propdesk.access.permissions import requires
from propdesk.http.deps import SessionDep, TenantDep
from propdesk.lifecycle.models import ChallengeRow
from propdesk.web.pages import area_router, render


@get("/", opt=requires("challenges", "read"))
async def desk(request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep) -> Template:
    """The desk at a glance: challenges by status."""
    rows = await session.execute(
        select(ChallengeRow.status, func.count()).group_by(ChallengeRow.status)
    )
    by_status = dict(sorted((str(s), int(n)) for s, n in rows))
    return await render(request, session, "backoffice/desk.html", by_status=by_status)


ROUTER = area_router("/backoffice", "backoffice", [desk])
