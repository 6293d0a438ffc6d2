"""Coupons, orders and redemptions (tenant schema, migration ``t0008``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column

MONEY = Numeric(20, 2)


class CouponRow(TenantBase):
    __tablename__ = "coupons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_trader: Mapped[int | None] = mapped_column(Integer)
    products: Mapped[list[str] | None] = mapped_column(JSONB)
    countries: Mapped[list[str] | None] = mapped_column(JSONB)
    partner_code: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()


class OrderRow(TenantBase):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    trader_id: Mapped[int] = mapped_column(ForeignKey("traders.id"))
    kind: Mapped[str] = mapped_column(String(10))
    product_code: Mapped[str] = mapped_column(String(40))
    #: The product version priced and pinned: the challenge is opened under it.
    version: Mapped[int] = mapped_column(Integer)
    version_hash: Mapped[str] = mapped_column(String(71))
    size: Mapped[str] = mapped_column(String(40))
    addons: Mapped[list[str]] = mapped_column(JSONB)
    currency: Mapped[str] = mapped_column(String(3))
    #: ``[{"kind", "code", "amount"}]`` as priced (``pricing.PriceLine``).
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    coupon_code: Mapped[str | None] = mapped_column(ForeignKey("coupons.code"))
    partner_code: Mapped[str | None] = mapped_column(String(60))
    #: The challenge a reset or a retry is for.
    of_challenge: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    status: Mapped[str] = mapped_column(String(20))
    #: The challenge the paid order opened (purchase, retry) or reset.
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    provider: Mapped[str | None] = mapped_column(String(40))
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    #: The provider's checkout the trader was sent to (Stripe ``cs_…``).
    checkout_reference: Mapped[str | None] = mapped_column(String(200))
    #: How much of ``total`` was refunded so far.
    refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    created_at: Mapped[datetime] = created_at_column()
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CouponRedemption(TenantBase):
    __tablename__ = "coupon_redemptions"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    coupon_code: Mapped[str] = mapped_column(ForeignKey("coupons.code"))
    trader_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("traders.id"))
    created_at: Mapped[datetime] = created_at_column()
