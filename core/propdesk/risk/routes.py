"""Risk cases over HTTP, for the desk's risk staff."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import get

from propdesk.access.permissions import requires
from propdesk.http.deps import SessionDep
from propdesk.risk import service

READ = requires("risk_cases", "read")


class RiskCaseView(msgspec.Struct):
    id: int
    kind: str
    reference: str
    status: str
    summary: str
    outcome: str | None
    challenge_id: int | None
    order_id: int | None
    opened_at: datetime
    closed_at: datetime | None


@get("/api/risk/cases", opt=READ, operation_id="listRiskCases", tags=["risk"])
async def list_cases(session: SessionDep, status: str | None = "open") -> list[RiskCaseView]:
    """The desk's risk cases, newest first (open ones unless ``status`` says otherwise)."""
    return [
        RiskCaseView(
            c.id,
            c.kind,
            c.reference,
            c.status,
            c.summary,
            c.outcome,
            c.challenge_id,
            c.order_id,
            c.opened_at,
            c.closed_at,
        )
        for c in await service.list_cases(session, status=status)
    ]


ROUTES = [list_cases]
