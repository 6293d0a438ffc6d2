"""Taking payments through a desk's payment provider: checkouts out, verified webhooks in.

A webhook is verified by the provider's adapter before anything is opened; then, in one unit of
work, its event id is recorded (a repeat stops there) and the event is acted on: a payment pays
its order (``orders.service.mark_paid``, itself idempotent, so the sibling events that report the
same payment change state once), an expired checkout cancels its order and gives its coupon
back, a refund and a dispute's withdrawn funds are posted to the ledger. A full refund or a lost
dispute closes the challenge (``refunded``: its account stops trading); an open dispute freezes
it (paused by the ``dispute`` rule) until it is won. What was done is kept with the event
(``outcome``) for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from propdesk.errors import Conflict, NotFound
from propdesk.ledger import service as ledger
from propdesk.ledger.chart import credit, debit
from propdesk.lifecycle.machine import allowed
from propdesk.lifecycle.service import apply_transition, load_challenge
from propdesk.lifecycle.transitions import Paused, Refunded, Resumed, Transition
from propdesk.orders.models import OrderRow
from propdesk.orders.service import mark_paid
from propdesk.payments.contract import Checkout, CheckoutRequest, PaymentEvent
from propdesk.payments.models import PaymentEventRow
from propdesk.plugins.desk import desk_payment_provider
from propdesk.risk.service import close_case, open_case
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

ORDER_PREFIX = "order:"
#: The rule a disputed payment pauses a challenge by (only the dispute's end resumes it).
DISPUTE = "dispute"


def order_reference(order_id: int) -> str:
    return f"{ORDER_PREFIX}{order_id}"


def order_id_of(reference: str | None) -> int | None:
    if reference and reference.startswith(ORDER_PREFIX) and reference[6:].isdigit():
        return int(reference[len(ORDER_PREFIX) :])
    return None


async def start_checkout(
    runtime: Runtime,
    tenant: TenantContext,
    order_id: int,
    *,
    provider: str,
    success_url: str,
    cancel_url: str,
) -> Checkout:
    """A hosted checkout of a pending order (the same one when asked again)."""
    async with runtime.db.unit_of_work(tenant) as session:
        order = await session.get(OrderRow, order_id, with_for_update=True)
        if order is None:
            raise NotFound(f"no order {order_id}")
        trader = await session.get(Trader, order.trader_id)
        assert trader is not None
        return await checkout_for(
            runtime,
            tenant,
            order,
            trader,
            provider=provider,
            success_url=success_url,
            cancel_url=cancel_url,
        )


async def checkout_for(
    runtime: Runtime,
    tenant: TenantContext,
    order: OrderRow,
    trader: Trader,
    *,
    provider: str,
    success_url: str,
    cancel_url: str,
) -> Checkout:
    """The provider's checkout of ``order`` (pending), recorded on it in the caller's unit of
    work; the provider's idempotency key makes asking twice yield one checkout."""
    if order.status != "pending_payment":
        raise Conflict(f"order {order.id} is {order.status}: there is nothing to pay")
    request = CheckoutRequest(
        order_reference=order_reference(order.id),
        amount=order.total,
        currency=order.currency,
        description=f"{order.product_code} {order.size} ({order.kind})",
        customer_email=trader.email,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"checkout:{tenant.slug}:{order.id}",
    )
    made = await desk_payment_provider(runtime.host, tenant, provider).create_checkout(request)
    order.checkout_reference, order.provider = made.reference, provider
    return made


@dataclass(frozen=True, slots=True)
class Received:
    event: PaymentEvent
    #: The event was recorded before: nothing was done now.
    duplicate: bool
    outcome: str


async def receive_webhook(
    runtime: Runtime,
    tenant: TenantContext,
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
) -> Received:
    """Verify and act on one webhook (``WebhookRejected`` when it does not verify)."""
    adapter = desk_payment_provider(runtime.host, tenant, provider)
    event = adapter.parse_webhook(body, headers, now=datetime.now(UTC))
    async with runtime.db.unit_of_work(tenant) as session:
        recorded = await session.scalar(
            insert(PaymentEventRow)
            .values(
                provider=provider,
                event_id=event.event_id,
                kind=event.kind,
                provider_type=event.provider_type,
                occurred_at=event.occurred_at,
                outcome="",
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(PaymentEventRow.event_id)
        )
        if recorded is None:
            return Received(event, duplicate=True, outcome="seen before")
        order_id, outcome = await _act(runtime, session, provider, event)
        await session.execute(
            update(PaymentEventRow)
            .where(PaymentEventRow.provider == provider, PaymentEventRow.event_id == event.event_id)
            .values(order_id=order_id, outcome=outcome)
        )
    return Received(event, duplicate=False, outcome=outcome)


async def _act(
    runtime: Runtime, session: AsyncSession, provider: str, event: PaymentEvent
) -> tuple[int | None, str]:
    actor = f"{provider}:webhook"
    order = await _order(session, provider, event)
    if event.kind == "ignored":
        return (order.id if order else None), "ignored"
    if order is None:
        return None, f"no order for {event.order_reference or event.payment_reference}"
    if event.kind == "payment.succeeded":
        try:
            await mark_paid(
                session,
                runtime.queue,
                order.id,
                provider=provider,
                payment_reference=event.payment_reference or event.event_id,
                amount=event.amount if event.amount is not None else Decimal(-1),
                currency=event.currency or "",
                at=event.occurred_at,
                actor=actor,
            )
        except Conflict as exc:
            # Kept for staff: the money moved, the order could not take it as it stands.
            return order.id, f"not applied: {exc.detail}"
        return order.id, "paid"
    if event.kind in ("checkout.expired", "payment.failed"):
        if order.status != "pending_payment":
            return order.id, f"order is {order.status}: left as it is"
        order.status = "cancelled" if event.kind == "checkout.expired" else "failed"
        return order.id, order.status
    if event.kind == "refund.succeeded" and event.amount is not None:
        return order.id, await _refunded(runtime, session, order, event, actor)
    if event.kind == "dispute.funds_withdrawn" and event.amount is not None:
        await ledger.post(
            session,
            reference=f"dispute:{event.dispute_reference}:withdrawn",
            kind="chargeback",
            currency=order.currency,
            lines=[debit("chargebacks", event.amount), credit("cash_at_psp", event.amount)],
            description=f"order {order.id}: funds withdrawn for dispute {event.dispute_reference}",
            actor=actor,
            occurred_at=event.occurred_at,
        )
        return order.id, "chargeback posted"
    if event.kind == "dispute.opened":
        await open_case(
            session,
            kind="dispute",
            reference=f"{provider}:{event.dispute_reference}",
            summary=f"payment {event.payment_reference} of order {order.id} disputed "
            f"({event.amount} {event.currency})",
            actor=actor,
            challenge_id=order.challenge_id or order.of_challenge,
            order_id=order.id,
        )
        frozen = await _challenge_moves(
            runtime,
            session,
            order,
            "paused",
            event,
            actor,
            f"payment disputed ({event.dispute_reference})",
        )
        return order.id, "dispute opened: account frozen" if frozen else "dispute opened"
    if event.kind == "dispute.closed":
        await close_case(
            session,
            f"{provider}:{event.dispute_reference}",
            outcome=event.dispute_outcome or "closed",
            actor=actor,
        )
    if event.kind == "dispute.closed" and event.dispute_outcome == "won":
        withdrawn = f"dispute:{event.dispute_reference}:withdrawn"
        await _challenge_moves(runtime, session, order, "resumed", event, actor, "dispute won")
        try:
            await ledger.reverse(session, withdrawn, actor=actor, description="dispute won")
        except NotFound:
            return order.id, "dispute won (no funds had been withdrawn)"
        return order.id, "dispute won: chargeback reversed"
    if event.kind == "dispute.closed" and event.dispute_outcome == "lost":
        await _challenge_moves(runtime, session, order, "refunded", event, actor, "dispute lost")
        return order.id, "dispute lost: challenge closed"
    return order.id, event.kind


async def _challenge_moves(
    runtime: Runtime,
    session: AsyncSession,
    order: OrderRow,
    event: str,
    cause: PaymentEvent,
    actor: str,
    why: str,
) -> bool:
    """Move the order's challenge by ``event`` (``refunded``, ``paused`` or ``resumed`` by the
    ``dispute`` rule) when it takes it now; whether it did."""
    challenge_id = order.challenge_id or order.of_challenge
    if challenge_id is None:
        return False
    _, state = await load_challenge(session, challenge_id)
    if event not in allowed(state) or (event == "resumed" and state.paused_by != DISPUTE):
        return False
    last = state.history[-1].at if state.history else cause.occurred_at
    at = max(cause.occurred_at, last)
    transition: Transition
    if event == "refunded":
        transition = Refunded(at=at, reason=why)
    elif event == "paused":
        transition = Paused(at=at, rule=DISPUTE, explanation=why)
    else:
        transition = Resumed(at=at, rule=DISPUTE, explanation=why)
    await apply_transition(session, runtime.queue, challenge_id, transition, actor=actor)
    return True


async def _order(session: AsyncSession, provider: str, event: PaymentEvent) -> OrderRow | None:
    order_id = order_id_of(event.order_reference)
    query = select(OrderRow).with_for_update()
    if order_id is not None:
        return await session.scalar(query.where(OrderRow.id == order_id))
    if event.payment_reference:
        return await session.scalar(
            query.where(
                OrderRow.provider == provider,
                OrderRow.payment_reference == event.payment_reference,
            )
        )
    return None


async def _refunded(
    runtime: Runtime, session: AsyncSession, order: OrderRow, event: PaymentEvent, actor: str
) -> str:
    assert event.amount is not None
    posted = await ledger.post(
        session,
        reference=f"refund:{event.refund_reference}",
        kind="refund",
        currency=order.currency,
        lines=[debit("refunds", event.amount), credit("cash_at_psp", event.amount)],
        description=f"order {order.id}: refund {event.refund_reference}",
        actor=actor,
        occurred_at=event.occurred_at,
    )
    if not posted.created:
        return "refund posted before"
    order.refunded = order.refunded + event.amount
    if order.refunded < order.total:
        return f"refund of {event.amount} posted"
    order.status = "refunded"
    closed = await _challenge_moves(
        runtime,
        session,
        order,
        "refunded",
        event,
        actor,
        f"fee refunded ({event.refund_reference})",
    )
    return f"refund of {event.amount} posted" + (": challenge closed" if closed else "")
