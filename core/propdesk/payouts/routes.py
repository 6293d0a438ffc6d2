"""Payouts over HTTP: the trader's quote, request, payouts and statements; finance's review.

The quote and the request read the same live case and call the same eligibility code, so a
request is accepted exactly when the quote a moment before said eligible, for the same amount.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import public, requires
from propdesk.errors import FieldProblem, InvalidInput, NotFound, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep, SessionDep, TenantDep
from propdesk.idempotency.http import idempotent
from propdesk.payouts import service
from propdesk.payouts import trader as payouts_of_trader
from propdesk.payouts.case import challenge_of_trader
from propdesk.payouts.models import PayoutRow
from propdesk.payouts.plugin import offered_rails
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.traders.models import Trader
from propdesk.traders.routes import signed_in_trader

TAGS = ["payouts"]
READ = requires("payouts", "read")
APPROVE = requires("payouts", "approve")
PAY = requires("payouts", "pay")
MAX_PAGE = 500


class QuoteView(msgspec.Struct):
    challenge_id: int
    currency: str
    eligible: bool
    payable: str
    profit: str
    counted: str
    split_percent: str
    trader_share: str
    firm_share: str
    fee_refund: str
    refusals: list[dict[str, str]]
    notes: list[str]
    #: The numbers the quote read (balance, positions, daily profits, payouts so far).
    facts: dict[str, Any]
    rails: list[str]


class RequestBody(msgspec.Struct):
    rail: str
    destination: dict[str, Any]


class StepView(msgspec.Struct):
    at: datetime
    event: str
    status: str
    actor: str
    detail: str


class PayoutView(msgspec.Struct):
    id: int
    challenge_id: int
    number: int
    status: str
    currency: str
    amount: Decimal
    profit: Decimal
    counted: Decimal
    split_percent: Decimal
    trader_share: Decimal
    firm_share: Decimal
    fee_refund: Decimal
    rail: str
    approvals_required: int
    requested_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    rail_reference: str | None
    failure: str | None
    disposition: str | None
    rejection_reason: str | None
    trader_email: str
    approvers: list[str] = []
    notes: list[str] = []
    timeline: list[StepView] = []


class RejectBody(msgspec.Struct):
    disposition: Literal["forfeit", "return"]
    reason: str


class ConfirmBody(msgspec.Struct):
    #: The bank's reference of the transfer finance made.
    reference: str


async def payout_view(session: AsyncSession, payout: PayoutRow, *, full: bool) -> PayoutView:
    view = PayoutView(
        id=payout.id,
        challenge_id=payout.challenge_id,
        number=payout.number,
        status=payout.status,
        currency=payout.currency,
        amount=payout.amount,
        profit=payout.profit,
        counted=payout.counted,
        split_percent=payout.split_percent,
        trader_share=payout.trader_share,
        firm_share=payout.firm_share,
        fee_refund=payout.fee_refund,
        rail=payout.rail,
        approvals_required=payout.approvals_required,
        requested_at=payout.requested_at,
        approved_at=payout.approved_at,
        paid_at=payout.paid_at,
        rail_reference=payout.rail_reference,
        failure=payout.failure,
        disposition=payout.disposition,
        rejection_reason=payout.rejection_reason,
        trader_email=payout.trader_email,
        notes=list(payout.quote.get("quote", {}).get("notes", [])),
    )
    if full:
        steps = await service.timeline(session, payout.id)
        view.timeline = [StepView(s.at, s.event, s.status, s.actor, s.detail) for s in steps]
        view.approvers = await service.approvers(session, payout.id)
    return view


async def _quote(
    runtime: Runtime, tenant: TenantContext, session: AsyncSession, challenge_id: int
) -> QuoteView:
    now = await payouts_of_trader.quote_now(runtime, tenant, session, challenge_id)
    quote = service.quote_json(now.quote)
    return QuoteView(
        challenge_id=challenge_id,
        currency=now.funded.account.currency,
        eligible=quote["eligible"],
        payable=quote["payable"],
        profit=quote["profit"],
        counted=quote["counted"],
        split_percent=quote["split_percent"],
        trader_share=quote["trader_share"],
        firm_share=quote["firm_share"],
        fee_refund=quote["fee_refund"],
        refusals=quote["refusals"],
        notes=quote["notes"],
        facts=service.case_json(now.case),
        rails=offered_rails(tenant),
    )


# -- the trader ---------------------------------------------------------------------------------
@get(
    "/api/traders/me/challenges/{challenge_id:int}/payout-quote",
    opt=public(),
    operation_id="quoteMyPayout",
    tags=TAGS,
)
async def my_quote(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> QuoteView:
    """What the signed-in trader could be paid now from the challenge, or every reason why
    not, with the numbers."""
    trader = await signed_in_trader(request, session)
    await challenge_of_trader(session, challenge_id, trader.email)
    return await _quote(runtime, tenant, session, challenge_id)


@post(
    "/api/traders/me/challenges/{challenge_id:int}/payouts",
    opt=public(),
    status_code=201,
    operation_id="requestPayout",
    tags=TAGS,
)
async def request_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
    data: JSONBody[RequestBody],
) -> Response[PayoutView]:
    """Request the payout the quote gives now (422 with the quote's refusals otherwise).
    Requires an ``Idempotency-Key``."""
    trader = await signed_in_trader(request, session)
    await challenge_of_trader(session, challenge_id, trader.email)
    return await idempotent(
        request,
        session,
        f"trader:{trader.id}",
        lambda: _request(runtime, tenant, session, trader, challenge_id, data),
        required=True,
        status_code=201,
    )


async def _request(
    runtime: Runtime,
    tenant: TenantContext,
    session: AsyncSession,
    trader: Trader,
    challenge_id: int,
    data: RequestBody,
) -> PayoutView:
    payout = await payouts_of_trader.request_now(
        runtime,
        tenant,
        session,
        challenge_id,
        rail=data.rail,
        destination=data.destination,
        actor=f"trader:{trader.id}",
    )
    return await payout_view(session, payout, full=False)


@get("/api/traders/me/payouts", opt=public(), operation_id="listMyPayouts", tags=TAGS)
async def my_payouts(request: Request[Any, Any, Any], session: SessionDep) -> list[PayoutView]:
    """The signed-in trader's payouts, newest first."""
    trader = await signed_in_trader(request, session)
    rows = await payouts_of_trader.trader_payouts(session, trader.email)
    return [await payout_view(session, p, full=False) for p in rows]


async def trader_payout(session: AsyncSession, trader: Trader, payout_id: int) -> PayoutRow:
    return await payouts_of_trader.trader_payout(session, trader.email, payout_id)


@get(
    "/api/traders/me/payouts/{payout_id:int}",
    opt=public(),
    operation_id="getMyPayout",
    tags=TAGS,
)
async def my_payout(
    request: Request[Any, Any, Any], session: SessionDep, payout_id: FromPath[int]
) -> PayoutView:
    """One of the trader's payouts with its timeline."""
    trader = await signed_in_trader(request, session)
    return await payout_view(session, await trader_payout(session, trader, payout_id), full=True)


# -- finance ------------------------------------------------------------------------------------
@get(
    "/api/challenges/{challenge_id:int}/payout-quote",
    opt=READ,
    operation_id="quotePayout",
    tags=TAGS,
)
async def staff_quote(
    runtime: RuntimeDep, session: SessionDep, tenant: TenantDep, challenge_id: FromPath[int]
) -> QuoteView:
    """The quote the trader would get now (the same code and numbers)."""
    return await _quote(runtime, tenant, session, challenge_id)


@get("/api/payouts", opt=READ, operation_id="listPayouts", tags=TAGS)
async def list_payouts(
    session: SessionDep, status: str | None = None, limit: int = 100
) -> list[PayoutView]:
    """The desk's payouts, newest first (``status`` filters: ``pending_review`` is the queue)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("bad page", problems=[FieldProblem("limit", f"1 to {MAX_PAGE}")])
    rows = await service.list_payouts(session, status=status, limit=limit)
    return [await payout_view(session, p, full=False) for p in rows]


@get("/api/payouts/{payout_id:int}", opt=READ, operation_id="getPayout", tags=TAGS)
async def get_payout(session: SessionDep, payout_id: FromPath[int]) -> PayoutView:
    """A payout with its approvers and timeline."""
    return await payout_view(session, await _any(session, payout_id), full=True)


def _actor(principal: Any) -> str:
    if principal is None:
        raise Unauthenticated("sign in first")
    return str(principal.actor)


@post(
    "/api/payouts/{payout_id:int}/approvals",
    opt=APPROVE,
    status_code=201,
    operation_id="approvePayout",
    tags=TAGS,
)
async def approve_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    principal: PrincipalDep,
    payout_id: FromPath[int],
) -> Response[PayoutView]:
    """Approve a payout under review. The payout is quoted again by the same code (with the
    trader's identity check as it is now) and refused with its reasons if it no longer holds;
    above the desk's threshold a second, different approver completes it."""
    actor = _actor(principal)

    async def run() -> PayoutView:
        done = await service.approve_as_of_now(
            session, runtime.queue, tenant.schema, payout_id, approver=actor, now=datetime.now(UTC)
        )
        return await payout_view(session, done, full=True)

    return await idempotent(request, session, actor, run, required=False, status_code=201)


@post(
    "/api/payouts/{payout_id:int}/rejection",
    opt=APPROVE,
    operation_id="rejectPayout",
    tags=TAGS,
)
async def reject_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    payout_id: FromPath[int],
    data: JSONBody[RejectBody],
) -> Response[PayoutView]:
    """Reject a payout under review or whose payment failed: the withdrawn profit is forfeited
    or returned to the trading account, as ``disposition`` says."""
    actor = _actor(principal)

    async def run() -> PayoutView:
        done = await service.reject(
            session,
            runtime.queue,
            payout_id,
            actor=actor,
            disposition=data.disposition,
            reason=data.reason,
            now=datetime.now(UTC),
        )
        return await payout_view(session, done, full=True)

    return await idempotent(request, session, actor, run, required=False)


@post("/api/payouts/{payout_id:int}/retry", opt=APPROVE, operation_id="retryPayout", tags=TAGS)
async def retry_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    payout_id: FromPath[int],
) -> Response[PayoutView]:
    """Pay a failed payout again (a new attempt through its rail)."""
    actor = _actor(principal)

    async def run() -> PayoutView:
        done = await service.retry(
            session, runtime.queue, payout_id, actor=actor, now=datetime.now(UTC)
        )
        return await payout_view(session, done, full=True)

    return await idempotent(request, session, actor, run, required=False)


@post(
    "/api/payouts/{payout_id:int}/confirmation",
    opt=PAY,
    operation_id="confirmPayout",
    tags=TAGS,
)
async def confirm_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    payout_id: FromPath[int],
    data: JSONBody[ConfirmBody],
) -> Response[PayoutView]:
    """Record the bank transfer finance made for a payout on the bank rail: it is paid.
    Requires an ``Idempotency-Key``."""
    actor = _actor(principal)
    reference = data.reference.strip()
    if not reference:
        raise InvalidInput("name the transfer", problems=[FieldProblem("reference", "required")])

    async def run() -> PayoutView:
        done = await service.confirm(
            session,
            runtime.queue,
            payout_id,
            actor=actor,
            reference=reference,
            now=datetime.now(UTC),
        )
        return await payout_view(session, done, full=True)

    return await idempotent(request, session, actor, run, required=True)


# -- statements ---------------------------------------------------------------------------------


async def _statement(
    session: AsyncSession, tenant: TenantContext, payout: PayoutRow, fmt: str
) -> Response[Any]:
    from propdesk.payouts import statement as render
    from propdesk.payouts.statements import statement_of

    statement = await statement_of(session, tenant, payout)
    name = f"payout-{payout.id}-statement.{fmt}"
    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    if fmt == "pdf":
        pdf = render.statement_pdf(statement)
        return Response(pdf, media_type="application/pdf", headers=disposition)
    return Response(render.statement_html(statement), media_type="text/html", headers=disposition)


async def _mine(
    request: Request[Any, Any, Any], session: AsyncSession, payout_id: int
) -> PayoutRow:
    return await trader_payout(session, await signed_in_trader(request, session), payout_id)


async def _any(session: AsyncSession, payout_id: int) -> PayoutRow:
    payout = await session.get(PayoutRow, payout_id)
    if payout is None:
        raise NotFound(f"no payout {payout_id}")
    return payout


MINE = "/api/traders/me/payouts/{payout_id:int}/statement"
ANY = "/api/payouts/{payout_id:int}/statement"


@get(f"{MINE}.html", opt=public(), operation_id="getMyStatementHtml", tags=TAGS)
async def my_statement_html(
    request: Request[Any, Any, Any],
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any]:
    """The statement of one of the trader's payouts, as a web page."""
    return await _statement(session, tenant, await _mine(request, session, payout_id), "html")


@get(f"{MINE}.pdf", opt=public(), operation_id="getMyStatementPdf", tags=TAGS)
async def my_statement_pdf(
    request: Request[Any, Any, Any],
    session: SessionDep,
    tenant: TenantDep,
    payout_id: FromPath[int],
) -> Response[Any]:
    """The statement of one of the trader's payouts, as a PDF."""
    return await _statement(session, tenant, await _mine(request, session, payout_id), "pdf")


@get(f"{ANY}.html", opt=READ, operation_id="getStatementHtml", tags=TAGS)
async def statement_html(
    session: SessionDep, tenant: TenantDep, payout_id: FromPath[int]
) -> Response[Any]:
    """A payout's statement as the trader gets it, as a web page."""
    return await _statement(session, tenant, await _any(session, payout_id), "html")


@get(f"{ANY}.pdf", opt=READ, operation_id="getStatementPdf", tags=TAGS)
async def statement_pdf(
    session: SessionDep, tenant: TenantDep, payout_id: FromPath[int]
) -> Response[Any]:
    """A payout's statement as the trader gets it, as a PDF."""
    return await _statement(session, tenant, await _any(session, payout_id), "pdf")


ROUTES = [
    my_statement_html,
    my_statement_pdf,
    statement_html,
    statement_pdf,
    my_quote,
    request_payout,
    my_payouts,
    my_payout,
    staff_quote,
    list_payouts,
    get_payout,
    approve_payout,
    reject_payout,
    retry_payout,
    confirm_payout,
]
