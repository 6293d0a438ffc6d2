"""Shared foundation: tenant registry, staff, sessions, API tokens, policies, audit chain.

Revision ID: s0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from propdesk.db.migrations.audit_ddl import create_audit_tables

revision = "s0001"
down_revision = None
branch_labels = ("shared",)
depends_on = None

S = "propdesk"
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("schema_name", sa.String(63), nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("domains", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("base_currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("theme", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_tenant_status"),
        schema=S,
    )
    op.create_table(
        "tenant_plugin",
        sa.Column(
            "tenant_id",
            sa.Integer,
            sa.ForeignKey(f"{S}.tenant.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("plugin", sa.String(64), primary_key=True),
        sa.Column("settings", JSONB, nullable=False, server_default="{}"),
        schema=S,
    )
    op.create_table(
        "staff_user",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("email = lower(email)", name="ck_staff_user_email_lower"),
        schema=S,
    )
    op.create_table(
        "staff_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.staff_user.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.create_table(
        "api_token",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.staff_user.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant_slug", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ptype", sa.String(8), nullable=False),
        sa.Column("v0", sa.String(255), nullable=False),
        sa.Column("v1", sa.String(255), nullable=False),
        sa.Column("v2", sa.String(255), nullable=False),
        sa.Column("v3", sa.String(255)),
        sa.Column("v4", sa.String(255)),
        sa.Column("v5", sa.String(255)),
        sa.UniqueConstraint("ptype", "v0", "v1", "v2", "v3", name="uq_casbin_rule_rule"),
        schema=S,
    )
    create_audit_tables(S)


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "casbin_rule",
        "api_token",
        "staff_session",
        "staff_user",
        "tenant_plugin",
        "tenant",
    ):
        op.drop_table(table, schema=S)
    op.execute(f'DROP FUNCTION "{S}".audit_log_append_only()')
