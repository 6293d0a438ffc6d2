"""Challenges and their lifecycle history (history rows are never changed).

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None

STATUSES = (
    "'awaiting_payment', 'provisioning', 'active', 'funded', 'paused', 'passed', 'failed', "
    "'expired', 'cancelled'"
)


def upgrade() -> None:
    now = sa.text("now()")
    op.create_table(
        "challenges",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("trader_email", sa.Text, nullable=False),
        sa.Column("trader_name", sa.Text, nullable=False),
        sa.Column("product_code", sa.String(40), nullable=False),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("ordered_version_hash", sa.String(71), nullable=False),
        sa.Column("size", sa.String(40)),
        sa.Column("addons", JSONB, nullable=False, server_default="[]"),
        sa.Column("phases", JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="awaiting_payment"),
        sa.Column("phase", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("account", sa.String(100)),
        sa.Column("paused_by", sa.String(80)),
        sa.Column("extension_days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_challenges_status"),
    )
    op.create_index("ix_challenges_status", "challenges", ["status"])
    op.create_table(
        "challenge_history",
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(80)),
        sa.Column("explanation", sa.Text),
        sa.Column("actor", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("transition", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", "seq", name="pk_challenge_history"),
    )
    op.execute(
        """
        CREATE FUNCTION challenge_history_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'challenge history is append-only: % refused', TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER challenge_history_append_only BEFORE UPDATE OR DELETE ON "
        "challenge_history FOR EACH ROW EXECUTE FUNCTION challenge_history_guard()"
    )


def downgrade() -> None:
    op.drop_table("challenge_history")
    op.drop_table("challenges")
    op.execute("DROP FUNCTION challenge_history_guard()")
