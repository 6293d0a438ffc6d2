"""Opening and closing risk cases, once per cause, audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import record
from propdesk.risk.models import RiskCase


async def open_case(
    session: AsyncSession,
    *,
    kind: str,
    reference: str,
    summary: str,
    actor: str,
    challenge_id: int | None = None,
    order_id: int | None = None,
) -> bool:
    """Open a case for ``reference`` unless one exists; whether one was opened."""
    opened = await session.scalar(
        insert(RiskCase)
        .values(
            kind=kind,
            reference=reference,
            summary=summary,
            challenge_id=challenge_id,
            order_id=order_id,
            status="open",
            opened_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(RiskCase.id)
    )
    if opened is not None:
        await record(
            session,
            chain="tenant",
            actor=actor,
            action="risk.case_opened",
            target=f"risk_case:{opened}",
            after={"kind": kind, "reference": reference},
        )
    return opened is not None


async def close_case(session: AsyncSession, reference: str, *, outcome: str, actor: str) -> bool:
    """Close the open case of ``reference``; whether there was one."""
    case = await session.scalar(
        select(RiskCase).where(RiskCase.reference == reference).with_for_update()
    )
    if case is None or case.status == "closed":
        return False
    case.status, case.outcome, case.closed_at = "closed", outcome, datetime.now(UTC)
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="risk.case_closed",
        target=f"risk_case:{case.id}",
        after={"outcome": outcome},
    )
    return True


async def list_cases(
    session: AsyncSession, *, status: str | None = "open", limit: int = 500
) -> list[RiskCase]:
    """The desk's risk cases, newest first (open ones unless ``status`` says otherwise)."""
    query = select(RiskCase).order_by(RiskCase.id.desc()).limit(limit)
    if status:
        query = query.where(RiskCase.status == status)
    return list(await session.scalars(query))
