"""A trader's purchase from order to payment: the order is placed, then paid at once when free
or sent to the desk's payment provider's checkout. The API (``POST /api/orders``) and the
portal's Buy form both come through here, in the caller's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from propdesk.orders import service
from propdesk.orders.pricing import OrderKind
from propdesk.payments.service import checkout_for

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.orders.models import OrderRow
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext
    from propdesk.traders.models import Trader


@dataclass(frozen=True, slots=True)
class Purchase:
    """What the trader wants and where the provider sends them back to."""

    product_code: str
    size: str
    currency: str
    provider: str
    success_url: str
    cancel_url: str
    kind: OrderKind = "purchase"
    addons: tuple[str, ...] = ()
    coupon: str | None = None
    of_challenge: int | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    order: OrderRow
    #: Where the trader pays (None for a free order, paid already).
    checkout_url: str | None


async def place_and_checkout(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    trader: Trader,
    purchase: Purchase,
) -> Placed:
    """The trader's order, paid when free, otherwise with the provider's checkout to pay it.

    :raises InvalidInput: the order does not fit the product (each problem names its field).
    :raises KycRequired: the product wants a verified identity before purchase.
    """
    order = await service.place_order(
        session,
        trader_id=trader.id,
        kind=purchase.kind,
        product_code=purchase.product_code,
        size=purchase.size,
        addons=list(purchase.addons),
        currency=purchase.currency,
        coupon_code=purchase.coupon,
        of_challenge=purchase.of_challenge,
    )
    if order.total == 0:
        await service.mark_paid(
            session,
            runtime.queue,
            order.id,
            provider="free",
            payment_reference=f"free:{order.id}",
            amount=order.total,
            currency=order.currency,
            at=datetime.now(UTC),
            actor=f"trader:{trader.id}",
        )
        return Placed(order, None)
    checkout = await checkout_for(
        runtime,
        tenant,
        order,
        trader,
        provider=purchase.provider,
        success_url=purchase.success_url.replace("{ORDER_ID}", str(order.id)),
        cancel_url=purchase.cancel_url.replace("{ORDER_ID}", str(order.id)),
    )
    return Placed(order, checkout.url)
