"""Finance's payout review: the queue with each quote's explanation, one payout with its
timeline and the approval check as it stands now, and the approve, reject, retry and
confirm-transfer forms (the same service calls as ``/api/payouts``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.access.service import names_of
from propdesk.errors import FieldProblem, InvalidInput, NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.payouts import service, workflow
from propdesk.payouts.case import NotPayable, funded_account
from propdesk.payouts.models import PayoutRow
from propdesk.tenancy.context import TenantContext
from propdesk.web.backoffice.common import Refusal, actor_of, attempt, done
from propdesk.web.pages import form_of, render, see_other

READ = requires("payouts", "read")
APPROVE = requires("payouts", "approve")
PAY = requires("payouts", "pay")
QUEUE = workflow.PENDING_REVIEW
ALL = "all"


@get("/payouts", opt=READ)
async def payout_queue(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    """Payouts of one status (the review queue unless ``status`` says otherwise)."""
    status = request.query_params.get("status") or QUEUE
    if status != ALL and status not in workflow.STATUSES:
        raise InvalidInput(
            f"there is no payout status {status!r}",
            problems=[FieldProblem("status", f"one of {', '.join(workflow.STATUSES)}, all")],
        )
    payouts = await service.list_payouts(session, status=None if status == ALL else status)
    return await render(
        request,
        session,
        "backoffice/payouts.html",
        payouts=payouts,
        shown=status,
        statuses=[*workflow.STATUSES, ALL],
        counts=await service.count_by_status(session),
    )


async def _payout_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    tenant: TenantContext,
    payout_id: int,
    refusal: Refusal | None = None,
) -> Template:
    payout = await session.get(PayoutRow, payout_id)
    if payout is None:
        raise NotFound(f"no payout {payout_id} on this desk")
    steps = await service.timeline(session, payout.id)
    approvers = await service.approvers(session, payout.id)
    people = await names_of(session, [*approvers, *(s.actor for s in steps)])
    return await render(
        request,
        session,
        "backoffice/payout.html",
        status=refusal.status if refusal else 200,
        payout=payout,
        case=payout.quote.get("case", {}),
        quote=payout.quote.get("quote", {}),
        steps=steps,
        approvers=approvers,
        people=people,
        recheck=await _recheck(session, tenant, payout),
        refusal=refusal,
        form=await form_of(request) if refusal else {},
    )


async def _recheck(session: AsyncSession, tenant: TenantContext, payout: PayoutRow) -> Any:
    """What approving would find now (the same quote approval runs), while it is reviewed."""
    if payout.status != workflow.PENDING_REVIEW:
        return None
    try:
        funded = await funded_account(session, tenant.schema, payout.challenge_id, trading=False)
    except NotPayable as exc:
        return exc.detail
    now = datetime.now(UTC)
    return service.requote(payout, funded, kyc_status=service.kyc_now(funded), now=now)


@get("/payouts/{payout_id:int}", opt=READ)
async def payout_page(
    request: Request[Any, Any, Any],
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Template:
    """One payout: the numbers it was requested under, why, its timeline, what to do next."""
    return await _payout_page(request, session, tenant, payout_id)


async def _after(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    tenant: TenantContext,
    payout_id: int,
    outcome: Any,
    message: str,
) -> Response[Any] | Template:
    if isinstance(outcome, Refusal):
        return await _payout_page(request, session, tenant, payout_id, outcome)
    return see_other(done(f"/backoffice/payouts/{payout_id}", message), request)


@post("/payouts/{payout_id:int}/approve", opt=APPROVE)
async def approve(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any] | Template:
    """Approve: quoted again by the same code, refused with its reasons if it no longer holds."""
    outcome = await attempt(
        session,
        service.approve_as_of_now(
            session,
            runtime.queue,
            tenant.schema,
            payout_id,
            approver=actor_of(request),
            now=datetime.now(UTC),
        ),
    )
    message = "Approved." if isinstance(outcome, PayoutRow) and outcome.approved_at else ""
    message = message or "Your approval is in; a second approver completes it."
    return await _after(request, session, tenant, payout_id, outcome, message)


@post("/payouts/{payout_id:int}/reject", opt=APPROVE)
async def reject(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any] | Template:
    """Reject with a reason; the withdrawn profit is forfeited or returned to the account."""
    form = await form_of(request)
    outcome = await attempt(
        session,
        service.reject(
            session,
            runtime.queue,
            payout_id,
            actor=actor_of(request),
            disposition=form.get("disposition", ""),
            reason=form.get("reason", ""),
            now=datetime.now(UTC),
        ),
    )
    return await _after(request, session, tenant, payout_id, outcome, "Rejected.")


@post("/payouts/{payout_id:int}/retry", opt=APPROVE)
async def retry(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any] | Template:
    """Pay a failed payout again through its rail."""
    outcome = await attempt(
        session,
        service.retry(
            session, runtime.queue, payout_id, actor=actor_of(request), now=datetime.now(UTC)
        ),
    )
    return await _after(request, session, tenant, payout_id, outcome, "Payment retried.")


@post("/payouts/{payout_id:int}/confirm", opt=PAY)
async def confirm(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any] | Template:
    """Record the bank transfer finance made: the payout is paid."""
    reference = (await form_of(request)).get("reference", "").strip()
    outcome: Any
    if not reference:
        missing = FieldProblem("reference", "required: the bank's reference of the transfer")
        outcome = Refusal("name the transfer you made", [missing])
    else:
        outcome = await attempt(
            session,
            service.confirm(
                session,
                runtime.queue,
                payout_id,
                actor=actor_of(request),
                reference=reference,
                now=datetime.now(UTC),
            ),
        )
    return await _after(request, session, tenant, payout_id, outcome, "Paid.")


HANDLERS = [payout_queue, payout_page, approve, reject, retry, confirm]
