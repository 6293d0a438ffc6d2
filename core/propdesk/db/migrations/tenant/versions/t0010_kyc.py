"""Traders' identity verification: where it stands, and the providers' events, each once.

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None

STATUSES = "'not_started', 'pending', 'approved', 'rejected_retry', 'rejected_final'"


def upgrade() -> None:
    op.add_column(
        "traders",
        sa.Column("kyc_status", sa.String(20), nullable=False, server_default="not_started"),
    )
    op.add_column("traders", sa.Column("kyc_provider", sa.String(40)))
    op.add_column("traders", sa.Column("kyc_reference", sa.String(200)))
    op.add_column("traders", sa.Column("kyc_reason", sa.Text))
    op.add_column("traders", sa.Column("kyc_updated_at", sa.DateTime(timezone=True)))
    op.create_check_constraint("ck_traders_kyc_status", "traders", f"kyc_status IN ({STATUSES})")
    op.create_table(
        "kyc_events",
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("provider_type", sa.String(100), nullable=False),
        sa.Column("trader_id", sa.BigInteger, sa.ForeignKey("traders.id")),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_kyc_events"),
    )


def downgrade() -> None:
    op.drop_table("kyc_events")
    op.drop_constraint("ck_traders_kyc_status", "traders", type_="check")
    for column in ("kyc_updated_at", "kyc_reason", "kyc_reference", "kyc_provider", "kyc_status"):
        op.drop_column("traders", column)
