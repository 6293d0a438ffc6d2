"""Traders' sign-in sessions (only the SHA-256 of each secret is kept).

Revision ID: t0011
Revises: t0010
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trader_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("trader_id", sa.BigInteger, sa.ForeignKey("traders.id"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_trader_sessions_trader_id", "trader_sessions", ["trader_id"])


def downgrade() -> None:
    op.drop_table("trader_sessions")
