"""Payment providers' events, each acted on once, and the checkout of each order.

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("provider_type", sa.String(100), nullable=False),
        sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id")),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_payment_events"),
    )
    op.add_column("orders", sa.Column("checkout_reference", sa.String(200)))
    op.add_column("orders", sa.Column("refunded", sa.Numeric(20, 2), server_default="0"))
    op.alter_column("orders", "refunded", nullable=False)


def downgrade() -> None:
    op.drop_column("orders", "refunded")
    op.drop_column("orders", "checkout_reference")
    op.drop_table("payment_events")
