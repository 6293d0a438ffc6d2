"""Traders, coupons, orders and coupon redemptions.

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 2)
ORDER_STATUSES = "'pending_payment', 'paid', 'failed', 'cancelled', 'refunded'"


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "traders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marketing_consent", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name="ck_traders_country"),
    )
    op.create_index("uq_traders_email", "traders", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        sa.Column("max_uses", sa.Integer),
        sa.Column("max_uses_per_trader", sa.Integer),
        sa.Column("products", JSONB),
        sa.Column("countries", JSONB),
        sa.Column("partner_code", sa.String(60)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.CheckConstraint("kind IN ('percent', 'fixed')", name="ck_coupons_kind"),
        sa.CheckConstraint(
            "(kind = 'percent' AND value > 0 AND value <= 100 AND currency IS NULL) OR "
            "(kind = 'fixed' AND value > 0 AND currency IS NOT NULL)",
            name="ck_coupons_value",
        ),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("trader_id", sa.BigInteger, sa.ForeignKey("traders.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("product_code", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("size", sa.String(40), nullable=False),
        sa.Column("addons", JSONB, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("subtotal", MONEY, nullable=False),
        sa.Column("discount", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("coupon_code", sa.String(40), sa.ForeignKey("coupons.code")),
        sa.Column("partner_code", sa.String(60)),
        sa.Column("of_challenge", sa.BigInteger, sa.ForeignKey("challenges.id")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id")),
        sa.Column("provider", sa.String(40)),
        sa.Column("payment_reference", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('purchase', 'reset', 'retry')", name="ck_orders_kind"),
        sa.CheckConstraint(f"status IN ({ORDER_STATUSES})", name="ck_orders_status"),
        sa.CheckConstraint("total = subtotal - discount AND total >= 0", name="ck_orders_total"),
        sa.CheckConstraint(
            "(kind = 'purchase') = (of_challenge IS NULL)", name="ck_orders_of_challenge"
        ),
        # One paid order per challenge it created; one payment per order.
        sa.UniqueConstraint("challenge_id", name="uq_orders_challenge_id"),
        sa.UniqueConstraint("provider", "payment_reference", name="uq_orders_payment"),
    )
    op.create_index("ix_orders_trader_id", "orders", ["trader_id"])
    op.create_table(
        "coupon_redemptions",
        sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("coupon_code", sa.String(40), sa.ForeignKey("coupons.code"), nullable=False),
        sa.Column("trader_id", sa.BigInteger, sa.ForeignKey("traders.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_index(
        "ix_coupon_redemptions_coupon", "coupon_redemptions", ["coupon_code", "trader_id"]
    )


def downgrade() -> None:
    op.drop_table("coupon_redemptions")
    op.drop_table("orders")
    op.drop_table("coupons")
    op.drop_table("traders")
