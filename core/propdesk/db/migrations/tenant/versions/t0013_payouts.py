"""Payouts: requests, approvals, payments (at most one live per payout), timeline, scaling.

Revision ID: t0013
Revises: t0012
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0013"
down_revision = "t0012"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 2)
PERCENT = sa.Numeric(7, 4)
STATUSES = (
    "'requested', 'pending_review', 'approved', 'paying', 'paid', 'failed', 'rejected', 'cancelled'"
)
IN_FLIGHT = "'requested', 'pending_review', 'approved', 'paying', 'failed'"


def _when(name: str, *, required: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not required)


def upgrade() -> None:
    # Payouts paid by bank transfer (the core's manual rail) leave the firm's bank account.
    op.execute(
        "INSERT INTO ledger_accounts (code, kind, name) VALUES "
        "('cash_at_bank', 'asset', 'Money held at the bank')"
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger, sa.ForeignKey("trading_accounts.id"), nullable=False
        ),
        sa.Column("trader_email", sa.Text, nullable=False),
        sa.Column("trader_name", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("profit", MONEY, nullable=False),
        sa.Column("counted", MONEY, nullable=False),
        sa.Column("split_percent", PERCENT, nullable=False),
        sa.Column("trader_share", MONEY, nullable=False),
        sa.Column("firm_share", MONEY, nullable=False),
        sa.Column("fee_refund", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("quote", JSONB, nullable=False),
        sa.Column("version_hash", sa.String(71), nullable=False),
        sa.Column("rail", sa.String(40), nullable=False),
        sa.Column("destination", JSONB, nullable=False),
        sa.Column("approvals_required", sa.Integer, nullable=False),
        sa.Column("withdrawal_ticket", sa.String(64)),
        _when("withdrawn_at"),
        sa.Column("rail_reference", sa.String(200)),
        sa.Column("failure", sa.Text),
        sa.Column("disposition", sa.String(10)),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("returned_ticket", sa.String(64)),
        _when("returned_at"),
        _when("requested_at", required=True),
        sa.Column("requested_by", sa.Text, nullable=False),
        _when("approved_at"),
        _when("paid_at"),
        _when("scaling_reviewed_at"),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_payouts_status"),
        sa.CheckConstraint("number >= 1", name="ck_payouts_number"),
        sa.CheckConstraint("amount > 0", name="ck_payouts_amount_positive"),
        sa.CheckConstraint("amount = trader_share + fee_refund", name="ck_payouts_amount"),
        sa.CheckConstraint("trader_share + firm_share = counted", name="ck_payouts_shares"),
        sa.CheckConstraint("approvals_required IN (1, 2)", name="ck_payouts_approvals"),
        sa.CheckConstraint(
            "disposition IS NULL OR disposition IN ('forfeit', 'return')",
            name="ck_payouts_disposition",
        ),
        sa.CheckConstraint(
            "(status = 'paid') = (paid_at IS NOT NULL AND rail_reference IS NOT NULL)",
            name="ck_payouts_paid",
        ),
        sa.UniqueConstraint("challenge_id", "number", name="uq_payouts_number"),
    )
    # One payout in flight per challenge: its profit is withdrawn once.
    op.create_index(
        "uq_payouts_in_flight",
        "payouts",
        ["challenge_id"],
        unique=True,
        postgresql_where=sa.text(f"status IN ({IN_FLIGHT})"),
    )
    op.create_index("ix_payouts_status", "payouts", ["status", "updated_at"])
    op.create_table(
        "payout_approvals",
        sa.Column("payout_id", sa.BigInteger, sa.ForeignKey("payouts.id"), primary_key=True),
        sa.Column("approver", sa.Text, primary_key=True),
        _when("at", required=True),
    )
    op.create_table(
        "payout_payments",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("payout_id", sa.BigInteger, sa.ForeignKey("payouts.id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("rail", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("rail_reference", sa.String(200)),
        sa.Column("failure", sa.Text),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        _when("settled_at"),
        sa.CheckConstraint(
            "status IN ('submitted', 'paid', 'failed')", name="ck_payout_payments_status"
        ),
        sa.UniqueConstraint("payout_id", "attempt", name="uq_payout_payments_attempt"),
        sa.UniqueConstraint("idempotency_key", name="uq_payout_payments_key"),
        sa.UniqueConstraint("rail", "rail_reference", name="uq_payout_payments_reference"),
    )
    # The exactly-once guarantee: a payout has at most one payment that is not a failure.
    op.create_index(
        "uq_payout_payments_live",
        "payout_payments",
        ["payout_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'failed'"),
    )
    op.create_table(
        "payout_steps",
        sa.Column("payout_id", sa.BigInteger, sa.ForeignKey("payouts.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        _when("at", required=True),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "scaling_steps",
        sa.Column("challenge_id", sa.BigInteger, sa.ForeignKey("challenges.id"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("payout_id", sa.BigInteger, sa.ForeignKey("payouts.id"), nullable=False),
        _when("at", required=True),
        sa.Column("from_balance", MONEY, nullable=False),
        sa.Column("balance", MONEY, nullable=False),
        sa.Column("split_percent", PERCENT),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.UniqueConstraint("payout_id", name="uq_scaling_steps_payout"),
    )


def downgrade() -> None:
    op.drop_table("scaling_steps")
    op.drop_table("payout_steps")
    op.drop_table("payout_payments")
    op.drop_table("payout_approvals")
    op.drop_table("payouts")
    op.execute("DELETE FROM ledger_accounts WHERE code = 'cash_at_bank'")
