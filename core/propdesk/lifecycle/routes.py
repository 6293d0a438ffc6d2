"""Challenges over HTTP: the desk's challenges, one challenge's history, operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.errors import FieldProblem, InvalidInput, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep, SessionDep
from propdesk.idempotency.http import idempotent
from propdesk.lifecycle import machine, service
from propdesk.lifecycle.models import ChallengeRow
from propdesk.runtime import Runtime

TAGS = ["challenges"]
READ = requires("challenges", "read")
OPERATE = requires("challenges", "operate")
MAX_PAGE = 500


class EntryView(msgspec.Struct):
    seq: int
    at: datetime
    event: str
    from_status: str
    to_status: str
    phase: int
    attempt: int
    rule: str | None
    explanation: str | None
    actor: str | None
    reason: str | None


class ChallengeView(msgspec.Struct):
    id: int
    product_code: str
    version_hash: str
    size: str | None
    status: str
    phase: int
    phase_code: str
    attempt: int
    account: str | None
    trader_email: str
    allowed: list[str] = []
    history: list[EntryView] | None = None


def _view(row: ChallengeRow, state: machine.Challenge | None = None) -> ChallengeView:
    view = ChallengeView(
        row.id,
        row.product_code,
        row.version_hash,
        row.size,
        row.status,
        row.phase,
        row.phases[row.phase]["code"],
        row.attempt,
        row.account,
        row.trader_email,
    )
    if state is not None:
        view.allowed = sorted(machine.allowed(state))
        view.history = [
            EntryView(
                e.seq,
                e.at,
                e.event,
                e.from_status,
                e.to_status,
                e.phase,
                e.attempt,
                e.rule,
                e.explanation,
                e.actor,
                e.reason,
            )
            for e in state.history
        ]
    return view


@get("/api/challenges", opt=READ, operation_id="listChallenges", tags=TAGS)
async def list_challenges(
    session: SessionDep, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[ChallengeView]:
    """The desk's challenges, newest first (``status`` filters)."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(
            "bad page", problems=[FieldProblem("limit", f"1 to {MAX_PAGE}; offset 0 or more")]
        )
    query = select(ChallengeRow).order_by(ChallengeRow.id.desc()).limit(limit).offset(offset)
    if status is not None:
        if status not in machine.STATUSES:
            raise InvalidInput(
                f"unknown status {status!r}",
                problems=[FieldProblem("status", f"one of {', '.join(machine.STATUSES)}")],
            )
        query = query.where(ChallengeRow.status == status)
    return [_view(row) for row in await session.scalars(query)]


@get("/api/challenges/{challenge_id:int}", opt=READ, operation_id="getChallenge", tags=TAGS)
async def get_challenge(session: SessionDep, challenge_id: FromPath[int]) -> ChallengeView:
    """One challenge: where it stands, what it takes next, and its whole history."""
    row, state = await service.load_challenge(session, challenge_id)
    return _view(row, state)


@post(
    "/api/challenges/{challenge_id:int}/actions",
    opt=OPERATE,
    status_code=200,
    operation_id="operateChallenge",
    tags=TAGS,
)
async def operate_challenge(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    challenge_id: FromPath[int],
    data: JSONBody[dict[str, Any]],
) -> Response[ChallengeView]:
    """Reinstate, extend (``days``), advance or re-bind (``version``) with a ``reason``. With an
    ``Idempotency-Key``, a repeat of the request is answered without acting twice."""
    if principal is None:
        raise Unauthenticated("sign in first")
    return await idempotent(
        request,
        session,
        principal.actor,
        lambda: _operate(runtime, session, principal.actor, challenge_id, data),
        required=False,
    )


async def _operate(
    runtime: Runtime,
    session: AsyncSession,
    actor: str,
    challenge_id: int,
    data: dict[str, Any],
) -> ChallengeView:
    action = data.get("action")
    if not isinstance(action, str):
        raise InvalidInput(
            "say which action",
            problems=[FieldProblem("action", "required: reinstate, extend, advance or rebind")],
        )
    applied = await service.operate(
        session,
        runtime.queue,
        challenge_id,
        action=action,
        reason=data.get("reason") or "",
        actor=actor,
        days=data.get("days"),
        version=data.get("version"),
    )
    row, _ = await service.load_challenge(session, challenge_id)
    return _view(row, applied.state)


ROUTES = [list_challenges, get_challenge, operate_challenge]
