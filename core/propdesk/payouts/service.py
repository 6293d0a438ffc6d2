"""What people do to payouts: request, approve, reject, retry a failed one, confirm a bank
transfer. Each runs in the caller's unit of work, holds the payout's row lock, moves it through
``workflow``, writes its timeline, audit record and ledger entries, and emits ``payout.<event>``
for the worker (which withdraws and pays) and the trader's notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import now as audit_now
from propdesk.audit.service import record
from propdesk.errors import Conflict, FieldProblem, InvalidInput, NotFound
from propdesk.ledger import service as ledger
from propdesk.ledger.chart import Line, credit, debit
from propdesk.lifecycle.models import ChallengeRow
from propdesk.outbox.service import emit
from propdesk.payouts import workflow
from propdesk.payouts.case import FundedAccount, funded_account, quote_of
from propdesk.payouts.eligibility import PayoutCase, Quote, Refusal
from propdesk.payouts.models import PayoutApproval, PayoutPayment, PayoutRow, PayoutStep
from propdesk.rules.money import money

if TYPE_CHECKING:
    from propdesk.worker.queue import JobQueue


class NotEligible(InvalidInput):
    """The payout policy refuses: each refusal names its rule and the numbers."""

    title = "Not eligible for a payout"
    slug = "payout-not-eligible"

    def __init__(self, detail: str, refusals: tuple[Refusal, ...]) -> None:
        super().__init__(detail, problems=[FieldProblem(r.rule, r.message) for r in refusals])
        self.refusals = refusals

    @property
    def problem_extra(self) -> dict[str, Any]:
        return {"refusals": [asdict(r) for r in self.refusals]}


# -- the frozen case: what approval re-checks ---------------------------------------------------
def case_json(case: PayoutCase) -> dict[str, Any]:
    return {
        "now": case.now.isoformat(),
        "funded_at": case.funded_at.isoformat(),
        "initial_balance": str(case.initial_balance),
        "balance": str(case.balance),
        "open_positions": case.open_positions,
        "daily_profits": [[d.isoformat(), str(p)] for d, p in case.daily_profits],
        "payouts_paid": case.payouts_paid,
        "last_payout_at": case.last_payout_at.isoformat() if case.last_payout_at else None,
        "kyc_status": case.kyc_status,
        "fee_paid": str(case.fee_paid),
    }


def case_from_json(data: Mapping[str, Any]) -> PayoutCase:
    last = data.get("last_payout_at")
    return PayoutCase(
        now=datetime.fromisoformat(data["now"]),
        funded_at=datetime.fromisoformat(data["funded_at"]),
        initial_balance=Decimal(data["initial_balance"]),
        balance=Decimal(data["balance"]),
        open_positions=int(data["open_positions"]),
        daily_profits=[(date.fromisoformat(d), Decimal(p)) for d, p in data["daily_profits"]],
        payouts_paid=int(data["payouts_paid"]),
        last_payout_at=datetime.fromisoformat(last) if last else None,
        kyc_status=str(data["kyc_status"]),
        fee_paid=Decimal(data["fee_paid"]),
    )


def quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "eligible": quote.eligible,
        "profit": str(quote.profit),
        "counted": str(quote.counted),
        "split_percent": str(quote.split_percent),
        "trader_share": str(quote.trader_share),
        "firm_share": str(quote.firm_share),
        "fee_refund": str(quote.fee_refund),
        "payable": str(quote.payable),
        "refusals": [asdict(r) for r in quote.refusals],
        "notes": list(quote.notes),
    }


# -- requesting ---------------------------------------------------------------------------------
def check_destination(schema: Mapping[str, Any], destination: Mapping[str, Any], rail: str) -> None:
    """``InvalidInput`` naming each wrong field of the destination by its JSON pointer."""
    errors = sorted(Draft202012Validator(schema).iter_errors(destination), key=str)
    if errors:
        raise InvalidInput(
            f"the destination is not one the {rail} rail can pay to",
            problems=[
                FieldProblem("/destination" + "".join(f"/{p}" for p in e.absolute_path), e.message)
                for e in errors
            ],
        )


async def request_payout(
    session: AsyncSession,
    queue: JobQueue | None,
    funded: FundedAccount,
    case: PayoutCase,
    *,
    rail: str,
    destination: Mapping[str, Any],
    second_approval_above: Decimal | None,
    actor: str,
) -> PayoutRow:
    """Record a payout request under the quote ``case`` gives now.

    :raises NotEligible: the policy refuses (nothing is written).
    :raises Conflict: another payout of the challenge is in flight.
    """
    # Requests for one challenge queue up behind this lock: one reads the in-flight payout of
    # the other instead of tripping over the unique index.
    await session.execute(
        select(ChallengeRow.id).where(ChallengeRow.id == funded.row.id).with_for_update()
    )
    in_flight = await session.scalar(
        select(PayoutRow).where(
            PayoutRow.challenge_id == funded.row.id, PayoutRow.status.in_(workflow.IN_FLIGHT)
        )
    )
    if in_flight is not None:
        raise Conflict(
            f"payout {in_flight.id} of challenge {funded.row.id} is {in_flight.status}: one "
            "payout at a time"
        )
    quote = quote_of(funded, case)
    if not quote.eligible:
        raise NotEligible(
            f"challenge {funded.row.id} is not eligible for a payout now: "
            + "; ".join(r.message for r in quote.refusals),
            quote.refusals,
        )
    number = 1 + (
        await session.scalar(select(func.count()).where(PayoutRow.challenge_id == funded.row.id))
        or 0
    )
    amount = quote.payable
    payout = PayoutRow(
        challenge_id=funded.row.id,
        account_id=funded.account.id,
        trader_email=funded.row.trader_email,
        trader_name=funded.row.trader_name,
        number=number,
        status=workflow.REQUESTED,
        currency=funded.account.currency,
        profit=quote.profit,
        counted=quote.counted,
        split_percent=quote.split_percent,
        trader_share=quote.trader_share,
        firm_share=quote.firm_share,
        fee_refund=quote.fee_refund,
        amount=amount,
        quote={"case": case_json(case), "quote": quote_json(quote)},
        version_hash=funded.state.version_hash,
        rail=rail,
        destination=dict(destination),
        approvals_required=workflow.approvals_required(second_approval_above, amount),
        requested_at=case.now,
        requested_by=actor,
        updated_at=case.now,
    )
    session.add(payout)
    await session.flush()
    detail = (
        f"{money(quote.counted)} of {money(quote.profit)} profit at {quote.split_percent}%: "
        f"{money(amount)} {payout.currency} to pay"
    )
    await step(session, queue, payout, "requested", actor, detail, at=case.now)
    return payout


# -- reviewing ----------------------------------------------------------------------------------
async def locked(session: AsyncSession, payout_id: int) -> PayoutRow:
    # populate_existing: a row this session read before the lock was granted is refreshed
    # with what the previous holder committed, not trusted from the identity map.
    payout = await session.scalar(
        select(PayoutRow)
        .where(PayoutRow.id == payout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payout is None:
        raise NotFound(f"no payout {payout_id}")
    return payout


async def approve(
    session: AsyncSession,
    queue: JobQueue | None,
    payout_id: int,
    funded: FundedAccount,
    *,
    approver: str,
    kyc_status: str,
    now: datetime,
) -> PayoutRow:
    """Add ``approver``'s approval; the last one required approves the payout.

    The payout is quoted again, by the same code, from the case it was requested under with the
    trader's identity check as it stands now: approval cannot pay what the quote refuses.
    """
    payout = await locked(session, payout_id)
    workflow.move(payout.status, "approved")
    if approver == payout.requested_by:
        raise Conflict("a payout is approved by someone other than who requested it")
    again = requote(payout, funded, kyc_status=kyc_status, now=now)
    if not again.eligible:
        raise NotEligible(
            f"payout {payout.id} cannot be approved: "
            + "; ".join(r.message for r in again.refusals),
            again.refusals,
        )
    if again.payable != payout.amount:
        raise Conflict(
            f"payout {payout.id} asks for {money(payout.amount)} but its quote now gives "
            f"{money(again.payable)}: reject it and let the trader request again"
        )
    exists = await session.get(PayoutApproval, (payout.id, approver))
    if exists is not None:
        raise Conflict(f"{approver} approved payout {payout.id} already: another approver must")
    session.add(PayoutApproval(payout_id=payout.id, approver=approver, at=now))
    await session.flush()
    given = await session.scalar(select(func.count()).where(PayoutApproval.payout_id == payout.id))
    if (given or 0) < payout.approvals_required:
        await step(
            session,
            None,
            payout,
            "approval",
            approver,
            f"approval {given} of {payout.approvals_required}",
            at=now,
            status=payout.status,
        )
        return payout
    payout.status, payout.approved_at = workflow.APPROVED, now
    await ledger.post(
        session,
        reference=f"payout:{payout.id}:approved",
        kind="payout",
        currency=payout.currency,
        lines=approval_lines(payout),
        description=f"payout {payout.id} (challenge {payout.challenge_id}) approved",
        actor=approver,
        occurred_at=now,
    )
    await step(session, queue, payout, "approved", approver, _to_pay(payout), at=now)
    return payout


async def approve_as_of_now(
    session: AsyncSession,
    queue: JobQueue | None,
    schema: str,
    payout_id: int,
    *,
    approver: str,
    now: datetime,
) -> PayoutRow:
    """``approve`` with the funded account and the trader's identity check as they stand."""
    payout = await session.get(PayoutRow, payout_id)
    if payout is None:
        raise NotFound(f"no payout {payout_id}")
    funded = await funded_account(session, schema, payout.challenge_id, trading=False)
    return await approve(
        session,
        queue,
        payout_id,
        funded,
        approver=approver,
        kyc_status=kyc_now(funded),
        now=now,
    )


def kyc_now(funded: FundedAccount) -> str:
    return funded.trader.kyc_status if funded.trader is not None else "approved"


def requote(payout: PayoutRow, funded: FundedAccount, *, kyc_status: str, now: datetime) -> Quote:
    """What approval checks: the case the payout was requested under, quoted again by the
    same code at ``now`` with the identity check as it is now."""
    frozen = case_from_json(payout.quote["case"])
    return quote_of(
        funded,
        PayoutCase(**{**_fields(frozen), "now": max(now, frozen.now), "kyc_status": kyc_status}),
    )


def _fields(case: PayoutCase) -> dict[str, Any]:
    return {name: getattr(case, name) for name in PayoutCase.__dataclass_fields__}


def _to_pay(payout: PayoutRow) -> str:
    return f"{money(payout.amount)} {payout.currency} to pay through {payout.rail}"


def approval_lines(payout: PayoutRow) -> list[Line]:
    """The firm owes the trader from approval on: their share is an expense, a refunded fee
    comes off revenue."""
    lines = [credit("payouts_payable", payout.amount)]
    if payout.trader_share:
        lines.append(debit("payout_expense", payout.trader_share))
    if payout.fee_refund:
        lines.append(debit("refunds", payout.fee_refund))
    return lines


async def reject(
    session: AsyncSession,
    queue: JobQueue | None,
    payout_id: int,
    *,
    actor: str,
    disposition: str,
    reason: str,
    now: datetime,
) -> PayoutRow:
    """Reject a payout under review (or one whose payment failed); ``disposition`` says
    whether the withdrawn profit is forfeited or returned to the account (by the worker)."""
    if disposition not in workflow.DISPOSITIONS:
        raise InvalidInput(
            f"disposition {disposition!r} is not forfeit or return",
            problems=[FieldProblem("disposition", "forfeit or return")],
        )
    if not reason.strip():
        raise InvalidInput("a rejection says why", problems=[FieldProblem("reason", "required")])
    payout = await locked(session, payout_id)
    was = payout.status
    payout.status = workflow.move(was, "rejected")
    payout.disposition, payout.rejection_reason = disposition, reason
    if was == workflow.FAILED:
        await ledger.reverse(
            session,
            f"payout:{payout.id}:approved",
            actor=actor,
            description=f"payout {payout.id} rejected after its payment failed",
        )
    what = "returned to the account" if disposition == "return" else "forfeited"
    await step(session, queue, payout, "rejected", actor, f"{reason} (profit {what})", at=now)
    return payout


async def retry(
    session: AsyncSession, queue: JobQueue | None, payout_id: int, *, actor: str, now: datetime
) -> PayoutRow:
    """Pay a failed payout again (a new payment attempt with a new idempotency key)."""
    payout = await locked(session, payout_id)
    payout.status = workflow.move(payout.status, "retried")
    payout.failure = None
    await step(session, queue, payout, "retried", actor, "payment to be attempted again", at=now)
    return payout


async def confirm(
    session: AsyncSession,
    queue: JobQueue | None,
    payout_id: int,
    *,
    actor: str,
    reference: str,
    now: datetime,
) -> PayoutRow:
    """Finance confirms the bank transfer it made for a payout on a manual rail."""
    payout = await locked(session, payout_id)
    if payout.status == workflow.PAID and payout.rail_reference == reference:
        return payout
    workflow.move(payout.status, "paid")
    payment = await live_payment(session, payout.id)
    if payment is None:
        raise Conflict(f"payout {payout.id} has no payment awaiting a confirmation")
    await settle_paid(session, queue, payout, payment, reference=reference, actor=actor, at=now)
    return payout


# -- reading ------------------------------------------------------------------------------------
async def list_payouts(
    session: AsyncSession, *, status: str | None = None, limit: int = 100
) -> list[PayoutRow]:
    """The desk's payouts, newest first (``status`` filters: ``pending_review`` is the queue)."""
    query = select(PayoutRow).order_by(PayoutRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(PayoutRow.status == status)
    return list(await session.scalars(query))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(PayoutRow.status, func.count()).group_by(PayoutRow.status))
    return {str(status): int(count) for status, count in rows}


async def timeline(session: AsyncSession, payout_id: int) -> list[PayoutStep]:
    """The payout's steps, oldest first."""
    steps = await session.scalars(
        select(PayoutStep).where(PayoutStep.payout_id == payout_id).order_by(PayoutStep.seq)
    )
    return list(steps)


async def approvers(session: AsyncSession, payout_id: int) -> list[str]:
    """Who approved the payout so far, in order."""
    found = await session.scalars(
        select(PayoutApproval.approver)
        .where(PayoutApproval.payout_id == payout_id)
        .order_by(PayoutApproval.at)
    )
    return list(found)


# -- shared with the worker ---------------------------------------------------------------------
async def live_payment(session: AsyncSession, payout_id: int) -> PayoutPayment | None:
    return await session.scalar(
        select(PayoutPayment).where(
            PayoutPayment.payout_id == payout_id, PayoutPayment.status != "failed"
        )
    )


def cash_account(rail: str) -> str:
    return "cash_at_bank" if rail == "bank" else "cash_at_psp"


async def settle_paid(
    session: AsyncSession,
    queue: JobQueue | None,
    payout: PayoutRow,
    payment: PayoutPayment,
    *,
    reference: str,
    actor: str,
    at: datetime,
) -> None:
    """The rail paid: the payment and the payout are paid, the liability is settled in cash."""
    payment.status, payment.rail_reference, payment.settled_at = "paid", reference, at
    payout.status = workflow.move(payout.status, "paid")
    payout.rail_reference, payout.paid_at = reference, at
    await ledger.post(
        session,
        reference=f"payout:{payout.id}:paid",
        kind="payout",
        currency=payout.currency,
        lines=[
            debit("payouts_payable", payout.amount),
            credit(cash_account(payout.rail), payout.amount),
        ],
        description=f"payout {payout.id} paid through {payout.rail} ({reference})",
        actor=actor,
        occurred_at=at,
    )
    await step(session, queue, payout, "paid", actor, f"paid through {payout.rail}: {reference}")


async def step(
    session: AsyncSession,
    queue: JobQueue | None,
    payout: PayoutRow,
    event: str,
    actor: str,
    detail: str,
    *,
    at: datetime | None = None,
    status: str | None = None,
) -> None:
    """The timeline row, the audit record and the ``payout.<event>`` event of one step."""
    when = at or audit_now()
    payout.updated_at = when
    seq = 1 + (
        await session.scalar(
            select(func.coalesce(func.max(PayoutStep.seq), 0)).where(
                PayoutStep.payout_id == payout.id
            )
        )
        or 0
    )
    session.add(
        PayoutStep(
            payout_id=payout.id,
            seq=seq,
            at=when,
            event=event,
            status=status or payout.status,
            actor=actor,
            detail=detail,
        )
    )
    await record(
        session,
        chain="tenant",
        actor=actor,
        action=f"payout.{event}",
        target=f"payout:{payout.id}",
        after={"status": status or payout.status, "detail": detail, "amount": payout.amount},
    )
    emit(
        session,
        queue,
        f"payout.{event}",
        {
            "payout_id": payout.id,
            "challenge_id": payout.challenge_id,
            "number": payout.number,
            "status": status or payout.status,
            "amount": str(payout.amount),
            "currency": payout.currency,
            "trader_email": payout.trader_email,
            "trader_name": payout.trader_name,
            "detail": detail,
            "actor": actor,
        },
    )
