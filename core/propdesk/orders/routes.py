"""Orders over HTTP: a trader buys (a challenge, a reset, a retry) and is sent to the payment
provider's checkout; staff see orders and coupons and refund from the back office.

Money-moving POSTs require an ``Idempotency-Key``: a repeat gets the first answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import public, requires
from propdesk.errors import Conflict, FieldProblem, InvalidInput, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep, SessionDep, TenantDep
from propdesk.idempotency.http import idempotent
from propdesk.orders import refunds, service
from propdesk.orders.checkout import Purchase, place_and_checkout
from propdesk.orders.models import CouponRow, OrderRow
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.traders.models import Trader
from propdesk.traders.routes import signed_in_trader

TAGS = ["orders"]
READ = requires("orders", "read")
REFUND = requires("orders", "refund")
COUPONS = requires("coupons", "manage")
MAX_PAGE = 500


class OrderBody(msgspec.Struct):
    product_code: str
    size: str
    currency: str
    #: The desk's payment provider (``stripe``).
    provider: str
    #: Where the provider sends the trader back (``{ORDER_ID}`` is replaced by the order's id).
    success_url: str
    cancel_url: str
    kind: Literal["purchase", "reset", "retry"] = "purchase"
    addons: list[str] = []
    coupon: str | None = None
    #: The failed or expired challenge a reset or a retry is for.
    of_challenge: int | None = None


class OrderView(msgspec.Struct):
    id: int
    kind: str
    status: str
    product_code: str
    version: int
    size: str
    addons: list[str]
    currency: str
    lines: list[dict[str, Any]]
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    refunded: Decimal
    coupon: str | None
    challenge_id: int | None
    #: Where to send the trader to pay (absent once paid, and for a free order).
    checkout_url: str | None = None


class RefundBody(msgspec.Struct):
    reason: str
    #: Part of the order's total; all of what is left when absent.
    amount: Decimal | None = None


class RefundView(msgspec.Struct):
    order_id: int
    refund: str
    status: str
    amount: Decimal


class CouponBody(msgspec.Struct):
    code: str
    kind: Literal["percent", "fixed"]
    value: Decimal
    currency: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_trader: int | None = None
    products: list[str] | None = None
    countries: list[str] | None = None
    partner_code: str | None = None


def order_view(order: OrderRow, checkout_url: str | None = None) -> OrderView:
    return OrderView(
        order.id,
        order.kind,
        order.status,
        order.product_code,
        order.version,
        order.size,
        list(order.addons),
        order.currency,
        list(order.lines),
        order.subtotal,
        order.discount,
        order.total,
        order.refunded,
        order.coupon_code,
        order.challenge_id,
        checkout_url,
    )


@post("/api/orders", opt=public(), status_code=201, operation_id="placeOrder", tags=TAGS)
async def place_order(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    data: JSONBody[OrderBody],
) -> Response[OrderView]:
    """The signed-in trader orders; the answer carries the provider's checkout URL (a free
    order is paid at once). Requires an ``Idempotency-Key``."""
    trader = await signed_in_trader(request, session)
    return await idempotent(
        request,
        session,
        f"trader:{trader.id}",
        lambda: _place(runtime, session, tenant, trader, data),
        required=True,
        status_code=201,
    )


async def _place(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    trader: Trader,
    data: OrderBody,
) -> OrderView:
    purchase = Purchase(
        product_code=data.product_code,
        size=data.size,
        currency=data.currency,
        provider=data.provider,
        success_url=data.success_url,
        cancel_url=data.cancel_url,
        kind=data.kind,
        addons=tuple(data.addons),
        coupon=data.coupon,
        of_challenge=data.of_challenge,
    )
    placed = await place_and_checkout(runtime, session, tenant, trader, purchase)
    return order_view(placed.order, placed.checkout_url)


@get("/api/traders/me/orders", opt=public(), operation_id="listTraderOrders", tags=TAGS)
async def my_orders(request: Request[Any, Any, Any], session: SessionDep) -> list[OrderView]:
    """The signed-in trader's orders, newest first."""
    trader = await signed_in_trader(request, session)
    return [order_view(o) for o in await service.trader_orders(session, trader.id)]


@get("/api/orders", opt=READ, operation_id="listOrders", tags=TAGS)
async def list_orders(
    session: SessionDep, status: str | None = None, limit: int = 100
) -> list[OrderView]:
    """The desk's orders, newest first (``status`` filters)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("bad page", problems=[FieldProblem("limit", f"1 to {MAX_PAGE}")])
    query = select(OrderRow).order_by(OrderRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OrderRow.status == status)
    return [order_view(o) for o in await session.scalars(query)]


@post(
    "/api/orders/{order_id:int}/refunds",
    opt=REFUND,
    status_code=202,
    operation_id="refundOrder",
    tags=TAGS,
)
async def refund_order(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    principal: PrincipalDep,
    order_id: FromPath[int],
    data: JSONBody[RefundBody],
) -> Response[RefundView]:
    """Refund a paid order through its provider (202: the provider's webhook then posts the
    ledger and, for a full refund, closes the challenge). Requires an ``Idempotency-Key``."""
    if principal is None:
        raise Unauthenticated("sign in first")
    if not data.reason.strip():
        raise InvalidInput("say why", problems=[FieldProblem("reason", "required")])
    key = request.headers.get("idempotency-key") or ""
    return await idempotent(
        request,
        session,
        principal.actor,
        lambda: _refund(runtime, session, tenant, order_id, data, key),
        required=True,
        status_code=202,
    )


async def _refund(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    order_id: int,
    data: RefundBody,
    key: str,
) -> RefundView:
    made = await refunds.refund(
        runtime, session, tenant, order_id, amount=data.amount, reason=data.reason, key=key
    )
    return RefundView(order_id, made.reference, made.status, made.amount)


@post("/api/coupons", opt=COUPONS, status_code=201, operation_id="createCoupon", tags=TAGS)
async def create_coupon(session: SessionDep, data: JSONBody[CouponBody]) -> CouponBody:
    """A coupon or promotion of the desk (codes are unique; a coupon is never edited)."""
    if await session.get(CouponRow, data.code) is not None:
        raise Conflict(f"coupon {data.code} exists", problems=[FieldProblem("code", "taken")])
    problems = []
    if data.kind == "percent" and not Decimal(0) < data.value <= 100:
        problems.append(FieldProblem("value", "a percentage above 0 and at most 100"))
    if data.kind == "fixed" and (data.value <= 0 or not data.currency):
        problems.append(FieldProblem("currency", "a fixed amount needs its currency"))
    if problems:
        raise InvalidInput("the coupon is not valid", problems=problems)
    session.add(CouponRow(**msgspec.structs.asdict(data), active=True))
    return data


@get("/api/coupons", opt=COUPONS, operation_id="listCoupons", tags=TAGS)
async def list_coupons(session: SessionDep) -> list[CouponBody]:
    """The desk's coupons, by code."""
    rows = await session.scalars(select(CouponRow).order_by(CouponRow.code))
    return [
        CouponBody(
            r.code,
            "percent" if r.kind == "percent" else "fixed",
            r.value,
            r.currency,
            r.valid_from,
            r.valid_until,
            r.max_uses,
            r.max_uses_per_trader,
            r.products,
            r.countries,
            r.partner_code,
        )
        for r in rows
    ]


ROUTES = [place_order, my_orders, list_orders, refund_order, create_coupon, list_coupons]
