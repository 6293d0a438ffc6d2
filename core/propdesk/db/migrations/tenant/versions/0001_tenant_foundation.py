"""Tenant foundation: the desk's audit chain and its outbox.

Revision ID: t0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from propdesk.db.migrations.audit_ddl import create_audit_tables

revision = "t0001"
down_revision = None
branch_labels = ("tenant",)
depends_on = None


def upgrade() -> None:
    create_audit_tables(None)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    )
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text("dispatched_at IS NULL")
    )
    op.create_table(
        "outbox_delivery",
        sa.Column(
            "event_id",
            UUID(as_uuid=True),
            sa.ForeignKey("outbox.event_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("plugin", sa.String(64), primary_key=True),
        sa.Column(
            "delivered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )


def downgrade() -> None:
    op.drop_table("outbox_delivery")
    op.drop_table("outbox")
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
