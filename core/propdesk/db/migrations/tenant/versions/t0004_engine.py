"""The real-time engine: trading accounts, their journal, evaluated state, verdicts and alerts.

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 2)
RATIO = sa.Numeric(20, 6)
STATUSES = "'not_opened', 'active', 'paused', 'passed', 'failed', 'expired'"


def _now() -> sa.TextClause:
    return sa.text("now()")


def _account_fk() -> sa.Column:
    return sa.Column(
        "account_id", sa.BigInteger, sa.ForeignKey("trading_accounts.id"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "trading_accounts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("phase_code", sa.String(40), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("product_code", sa.String(40), nullable=False),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("size", sa.String(40)),
        sa.Column("addons", JSONB, nullable=False, server_default="[]"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("initial_balance", MONEY, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.UniqueConstraint("platform", "login", name="uq_trading_accounts_platform_login"),
        sa.UniqueConstraint(
            "challenge_id", "phase", "attempt", name="uq_trading_accounts_challenge_id_phase"
        ),
        sa.CheckConstraint("initial_balance > 0", name="ck_trading_accounts_initial_balance"),
    )
    op.create_table(
        "account_events",
        _account_fk(),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("event_key", sa.String(160), nullable=False),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("clock_timestamp()"),
        ),
        sa.PrimaryKeyConstraint("account_id", "seq", name="pk_account_events"),
        sa.UniqueConstraint("account_id", "event_key", name="uq_account_events_account_id_key"),
        sa.CheckConstraint("seq >= 1", name="ck_account_events_seq"),
    )
    # The journal is evidence: verdicts cite it. Rows are only ever added.
    op.execute(
        """
        CREATE FUNCTION account_journal_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is an append-only journal: % refused', TG_TABLE_NAME, TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER account_events_append_only BEFORE UPDATE OR DELETE ON account_events "
        "FOR EACH ROW EXECUTE FUNCTION account_journal_guard()"
    )
    op.execute(
        "CREATE TRIGGER account_events_no_truncate BEFORE TRUNCATE ON account_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION account_journal_guard()"
    )
    op.create_table(
        "account_engine_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _account_fk(),
        sa.Column("after_seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("source", sa.String(80), unique=True),
    )
    op.create_index(
        "ix_account_engine_events_account_id", "account_engine_events", ["account_id", "id"]
    )
    op.execute(
        "CREATE TRIGGER account_engine_events_append_only BEFORE UPDATE OR DELETE ON "
        "account_engine_events FOR EACH ROW EXECUTE FUNCTION account_journal_guard()"
    )
    op.create_table(
        "account_state",
        sa.Column(
            "account_id", sa.BigInteger, sa.ForeignKey("trading_accounts.id"), primary_key=True
        ),
        sa.Column("evaluated_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("evaluated_until", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False, server_default="not_opened"),
        sa.Column("balance", MONEY),
        sa.Column("equity", MONEY),
        sa.Column("nearest_rule", sa.String(80)),
        sa.Column("floor", MONEY),
        sa.Column("headroom", MONEY),
        sa.Column("headroom_pct", RATIO),
        sa.Column("day", sa.Date),
        sa.Column("day_min_equity", MONEY),
        sa.Column("next_due", sa.DateTime(timezone=True)),
        sa.Column("last_event_at", sa.DateTime(timezone=True)),
        sa.Column("last_snapshot_at", sa.DateTime(timezone=True)),
        sa.Column("last_received_at", sa.DateTime(timezone=True)),
        sa.Column("stale", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_account_state_status"),
    )
    # The near-breach list: trading accounts ordered by how close they are to a floor.
    op.create_index(
        "ix_account_state_near_breach",
        "account_state",
        ["headroom_pct"],
        postgresql_where=sa.text("status IN ('active', 'paused') AND headroom_pct IS NOT NULL"),
    )
    op.create_index(
        "ix_account_state_next_due",
        "account_state",
        ["next_due"],
        postgresql_where=sa.text("next_due IS NOT NULL"),
    )
    op.create_table(
        "account_days",
        _account_fk(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("start_balance", MONEY, nullable=False),
        sa.Column("start_equity", MONEY, nullable=False),
        sa.Column("min_equity", MONEY, nullable=False),
        sa.Column("max_equity", MONEY, nullable=False),
        sa.Column("close_balance", MONEY, nullable=False),
        sa.Column("close_equity", MONEY, nullable=False),
        sa.Column("daily_floor", MONEY),
        sa.Column("max_loss_floor", MONEY),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("account_id", "day", name="pk_account_days"),
    )
    op.create_table(
        "account_verdicts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _account_fk(),
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(80)),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("evaluated_seq", sa.BigInteger, nullable=False),
        sa.Column("evaluated_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", JSONB, nullable=False),
        sa.Column(
            "committed_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()
        ),
        sa.UniqueConstraint(
            "account_id", "decided_at", "event", name="uq_account_verdicts_account_id_decision"
        ),
    )
    op.create_table(
        "data_quality_alerts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _account_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.CheckConstraint(
            "kind IN ('stale', 'gap', 'late', 'conflict')", name="ck_data_quality_alerts_kind"
        ),
    )
    op.create_index(
        "uq_data_quality_alerts_open",
        "data_quality_alerts",
        ["account_id", "kind"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "evaluation_snapshots",
        sa.Column(
            "account_id", sa.BigInteger, sa.ForeignKey("trading_accounts.id"), primary_key=True
        ),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("engine_events", sa.BigInteger, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_table(
        "platform_cursors",
        sa.Column(
            "account_id", sa.BigInteger, sa.ForeignKey("trading_accounts.id"), primary_key=True
        ),
        sa.Column("cursor", sa.Text),
        sa.Column("next_seq", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("polled_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in (
        "platform_cursors",
        "evaluation_snapshots",
        "data_quality_alerts",
        "account_verdicts",
        "account_days",
        "account_state",
        "account_engine_events",
        "account_events",
        "trading_accounts",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION account_journal_guard()")
