"""Refunding a paid order through the payment provider that took it. The provider's webhook
then posts the ledger and, for a full refund, closes the challenge (``payments.service``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from propdesk.errors import Conflict, FieldProblem, InvalidInput, NotFound
from propdesk.orders.models import OrderRow
from propdesk.payments.contract import RefundResult
from propdesk.plugins.desk import desk_payment_provider

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext


async def refund(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    order_id: int,
    *,
    amount: Decimal | None,
    reason: str,
    key: str,
) -> RefundResult:
    """Ask the order's provider to refund ``amount`` (all of what is left when None).

    ``key`` makes the refund's reference, the provider's idempotency key: the same key
    refunds once however often it is asked.

    :raises InvalidInput: no reason, or an amount that is not more than 0 and at most what is
        left. :raises Conflict: the order is not paid.
    """
    if not reason.strip():
        raise InvalidInput("say why", problems=[FieldProblem("reason", "required")])
    order = await session.get(OrderRow, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    if order.status != "paid" or not order.provider or not order.payment_reference:
        raise Conflict(f"order {order_id} is {order.status}: only a paid order is refunded")
    left = order.total - order.refunded
    asked = left if amount is None else amount
    if not Decimal(0) < asked <= left:
        raise InvalidInput(
            f"at most {left} {order.currency} is left to refund",
            problems=[FieldProblem("amount", f"more than 0 and at most {left}")],
        )
    provider = desk_payment_provider(runtime.host, tenant, order.provider)
    return await provider.refund(
        order.payment_reference, asked, order.currency, f"order-{order.id}-{key}"[:200]
    )
