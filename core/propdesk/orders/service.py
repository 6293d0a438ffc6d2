"""Placing orders and taking their payment: priced from the pinned product version, coupons
counted under a lock, and a paid order opens (or resets) its challenge and posts to the ledger,
once, however often the payment is reported.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import record
from propdesk.catalogue.models import PUBLISHED, CatalogueVersion
from propdesk.errors import Conflict, FieldProblem, InvalidInput, NotFound
from propdesk.kyc.gates import held
from propdesk.kyc.service import KycRequired
from propdesk.ledger import service as ledger
from propdesk.ledger.chart import credit, debit
from propdesk.lifecycle import machine
from propdesk.lifecycle.service import apply_transition, load_challenge, open_challenge
from propdesk.lifecycle.transitions import Paid, Reset
from propdesk.orders.models import CouponRedemption, CouponRow, OrderRow
from propdesk.orders.pricing import Coupon, OrderKind, Retry, Usage, price_order
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from propdesk.worker.queue import JobQueue

#: Orders that hold a coupon use: a failed or cancelled one gives it back.
HOLDING = ("pending_payment", "paid", "refunded")


def coupon_of(row: CouponRow) -> Coupon:
    return Coupon(
        code=row.code,
        kind="percent" if row.kind == "percent" else "fixed",
        value=row.value,
        currency=row.currency,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_uses=row.max_uses,
        max_uses_per_trader=row.max_uses_per_trader,
        products=frozenset(row.products) if row.products is not None else None,
        countries=frozenset(row.countries) if row.countries is not None else None,
        partner_code=row.partner_code,
        active=row.active,
    )


async def _usage(session: AsyncSession, code: str, trader_id: int) -> Usage:
    held = (
        select(CouponRedemption.trader_id)
        .join(OrderRow, OrderRow.id == CouponRedemption.order_id)
        .where(CouponRedemption.coupon_code == code, OrderRow.status.in_(HOLDING))
        .subquery()
    )
    total, mine = (
        await session.execute(
            select(func.count(), func.count().filter(held.c.trader_id == trader_id)).select_from(
                held
            )
        )
    ).one()
    return Usage(int(total), int(mine))


async def place_order(
    session: AsyncSession,
    *,
    trader_id: int,
    kind: OrderKind,
    product_code: str,
    size: str,
    addons: list[str],
    currency: str,
    coupon_code: str | None = None,
    of_challenge: int | None = None,
    at: datetime | None = None,
) -> OrderRow:
    """An order awaiting payment, priced now from the product's published version (a reset or
    a retry: from the version of ``of_challenge``).

    :raises InvalidInput: the product, size, add-ons, currency or coupon do not fit.
    :raises NotFound: the trader or the challenge is unknown.
    """
    at = at or datetime.now(UTC)
    trader = await session.get(Trader, trader_id)
    if trader is None:
        raise NotFound(f"no trader {trader_id}")
    retry = None
    if kind == "purchase":
        version = await _published(session, product_code)
    else:
        version, retry = await _follow_up(session, trader, kind, of_challenge)
        product_code = version.product_code
    hold = held(version.content, "purchase", trader.kyc_status, trader.kyc_reason)
    if hold is not None and kind in ("purchase", "retry"):
        raise KycRequired(hold)
    coupon, usage = None, Usage()
    if coupon_code:
        # The row lock makes concurrent orders count the coupon's uses one after the other.
        row = await session.scalar(
            select(CouponRow).where(CouponRow.code == coupon_code).with_for_update()
        )
        if row is None:
            raise InvalidInput(
                f"no coupon {coupon_code}", problems=[FieldProblem("coupon", "unknown code")]
            )
        coupon, usage = coupon_of(row), await _usage(session, row.code, trader.id)
    price = price_order(
        version.content,
        kind=kind,
        size=size,
        addons=addons,
        currency=currency,
        at=at,
        country=trader.country,
        coupon=coupon,
        usage=usage,
        retry=retry,
    )
    order = OrderRow(
        trader_id=trader.id,
        kind=kind,
        product_code=product_code,
        version=version.version,
        version_hash=version.content_hash,
        size=size,
        addons=list(addons),
        currency=currency,
        lines=[{**asdict(x), "amount": str(x.amount)} for x in price.lines],
        subtotal=price.subtotal,
        discount=price.discount,
        total=price.total,
        coupon_code=price.coupon,
        partner_code=price.partner_code,
        of_challenge=of_challenge if kind != "purchase" else None,
        status="pending_payment",
        created_at=at,
    )
    session.add(order)
    await session.flush()
    if price.coupon is not None:
        session.add(
            CouponRedemption(order_id=order.id, coupon_code=price.coupon, trader_id=trader.id)
        )
    await record(
        session,
        chain="tenant",
        actor=f"trader:{trader.id}",
        action="order.placed",
        target=f"order:{order.id}",
        after={
            "kind": kind,
            "product_code": product_code,
            "version": version.version,
            "size": size,
            "addons": list(addons),
            "currency": currency,
            "total": price.total,
            "coupon": price.coupon,
        },
    )
    return order


async def _published(session: AsyncSession, product_code: str) -> CatalogueVersion:
    row = await session.scalar(
        select(CatalogueVersion)
        .where(CatalogueVersion.product_code == product_code, CatalogueVersion.status == PUBLISHED)
        .order_by(CatalogueVersion.version.desc())
        .limit(1)
    )
    if row is None:
        raise InvalidInput(
            f"product {product_code!r} is not on sale",
            problems=[FieldProblem("product_code", "no published version")],
        )
    return row


async def _follow_up(
    session: AsyncSession, trader: Trader, kind: OrderKind, challenge_id: int | None
) -> tuple[CatalogueVersion, Retry | None]:
    """The version a reset or retry of ``challenge_id`` is priced from, and the retry terms."""
    if challenge_id is None:
        raise InvalidInput(
            f"a {kind} names its challenge", problems=[FieldProblem("of_challenge", "required")]
        )
    row, state = await load_challenge(session, challenge_id)
    if row.trader_email.lower() != trader.email.lower():
        raise NotFound(f"no challenge {challenge_id} of this trader")
    if state.status not in (machine.FAILED, machine.EXPIRED):
        raise InvalidInput(
            f"challenge {challenge_id} is {state.status}: only a failed or expired one can be "
            f"{'reset' if kind == 'reset' else 'retried'}",
            problems=[FieldProblem("of_challenge", f"is {state.status}")],
        )
    version = await session.scalar(
        select(CatalogueVersion).where(CatalogueVersion.content_hash == row.version_hash)
    )
    assert version is not None  # a challenge's version is never deleted
    return version, Retry(state.history[-1].at) if kind == "retry" else None


async def mark_paid(
    session: AsyncSession,
    queue: JobQueue | None,
    order_id: int,
    *,
    provider: str,
    payment_reference: str,
    amount: Decimal,
    currency: str,
    at: datetime,
    actor: str,
) -> OrderRow:
    """Take the payment of ``order_id``: open (or reset) its challenge, post the fee to the
    ledger. A repeat of the same payment changes nothing.

    :raises Conflict: the order is not awaiting payment, or was paid by another payment, or
        the amount or currency is not the order's.
    """
    order = await session.scalar(select(OrderRow).where(OrderRow.id == order_id).with_for_update())
    if order is None:
        raise NotFound(f"no order {order_id}")
    if order.status == "paid":
        if (order.provider, order.payment_reference) != (provider, payment_reference):
            raise Conflict(f"order {order_id} was paid by {order.payment_reference} already")
        return order
    if order.status != "pending_payment":
        raise Conflict(f"order {order_id} is {order.status}: it takes no payment")
    if (amount, currency) != (order.total, order.currency):
        raise Conflict(
            f"order {order_id} costs {order.total} {order.currency}; the payment was "
            f"{amount} {currency}"
        )
    trader = await session.get(Trader, order.trader_id)
    assert trader is not None
    if order.kind == "reset":
        assert order.of_challenge is not None
        _, state = await load_challenge(session, order.of_challenge)
        # The payment's clock may trail our last event of the challenge: time never goes back.
        when = max(at, state.history[-1].at) if state.history else at
        await apply_transition(session, queue, order.of_challenge, Reset(at=when), actor=actor)
    else:
        challenge = await open_challenge(
            session,
            queue,
            product_code=order.product_code,
            size=order.size,
            addons=list(order.addons),
            trader_email=trader.email,
            trader_name=trader.name,
            actor=actor,
            version=order.version,
        )
        await apply_transition(session, queue, challenge.id, Paid(at=at), actor=actor)
        order.challenge_id = challenge.id
    if order.total > 0:
        await ledger.post(
            session,
            reference=f"order:{order.id}:paid",
            kind="payment",
            currency=order.currency,
            lines=[debit("cash_at_psp", order.total), credit("fee_revenue", order.total)],
            description=f"order {order.id} ({order.kind} of {order.product_code} {order.size})",
            actor=actor,
            occurred_at=at,
        )
    order.status, order.paid_at = "paid", at
    order.provider, order.payment_reference = provider, payment_reference
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="order.paid",
        target=f"order:{order.id}",
        after={"provider": provider, "payment": payment_reference, "total": order.total},
    )
    return order


async def trader_orders(session: AsyncSession, trader_id: int) -> list[OrderRow]:
    """The trader's orders, newest first."""
    rows = await session.scalars(
        select(OrderRow).where(OrderRow.trader_id == trader_id).order_by(OrderRow.id.desc())
    )
    return list(rows)


async def trader_order(session: AsyncSession, trader_id: int, order_id: int) -> OrderRow:
    """One of the trader's orders; another trader's is not there (NotFound, the same words)."""
    order = await session.get(OrderRow, order_id)
    if order is None or order.trader_id != trader_id:
        raise NotFound(f"no order {order_id} of this trader")
    return order


async def paid_by_day(
    session: AsyncSession, since: datetime, timezone: str
) -> list[tuple[date, str, int, Decimal]]:
    """Orders paid since ``since``: per day (in ``timezone``) and currency, how many and how
    much, oldest day first."""
    day = func.date(func.timezone(timezone, OrderRow.paid_at))
    rows = await session.execute(
        select(day, OrderRow.currency, func.count(), func.sum(OrderRow.total))
        .where(OrderRow.paid_at >= since)
        .group_by(day, OrderRow.currency)
        .order_by(day, OrderRow.currency)
    )
    return [(d, currency, int(n), Decimal(total)) for d, currency, n, total in rows]
