"""Risk cases: what the desk's risk staff must look at (a disputed payment, ...).

Revision ID: t0012
Revises: t0011
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id")),
        sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id")),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column(
            "opened_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("reference", name="uq_risk_cases_reference"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_risk_cases_status"),
    )


def downgrade() -> None:
    op.drop_table("risk_cases")
