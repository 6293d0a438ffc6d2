"""The desk's double-entry ledger: the chart of accounts, transactions and their entries.

The database refuses an unbalanced transaction: a deferred constraint trigger checks, at
commit, that the entries of every transaction written sum to zero and are at least two. Rows
are never changed or deleted: a correction is a reversing transaction.

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

KINDS = "'asset', 'liability', 'revenue', 'contra_revenue', 'expense'"
#: (code, kind, name): what every desk's ledger starts with (``propdesk.ledger.chart``).
CHART = (
    ("cash_at_psp", "asset", "Cash held at payment providers"),
    ("fee_revenue", "revenue", "Challenge fees"),
    ("refunds", "contra_revenue", "Refunds of challenge fees"),
    ("chargebacks", "contra_revenue", "Chargebacks (disputes lost or funds withdrawn)"),
    ("psp_fees", "expense", "Payment provider fees"),
    ("payout_expense", "expense", "Profit splits paid to funded traders"),
    ("payouts_payable", "liability", "Payouts approved and not yet paid"),
    ("commission_expense", "expense", "Partner commissions earned"),
    ("commissions_payable", "liability", "Partner commissions not yet paid"),
)


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_ledger_accounts_kind"),
    )
    op.bulk_insert(
        sa.table(
            "ledger_accounts",
            sa.column("code", sa.String),
            sa.column("kind", sa.String),
            sa.column("name", sa.Text),
        ),
        [{"code": c, "kind": k, "name": n} for c, k, n in CHART],
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reverses", sa.BigInteger, sa.ForeignKey("ledger_transactions.id")),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.UniqueConstraint("reference", name="uq_ledger_transactions_reference"),
        sa.UniqueConstraint("reverses", name="uq_ledger_transactions_reverses"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_ledger_transactions_currency"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "transaction_id",
            sa.BigInteger,
            sa.ForeignKey("ledger_transactions.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("account", sa.String(40), sa.ForeignKey("ledger_accounts.code"), nullable=False),
        # Debits positive, credits negative: a balanced transaction sums to zero.
        sa.Column("amount", sa.Numeric(20, 2), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_entries_amount"),
    )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account"])
    op.execute(
        """
        CREATE FUNCTION ledger_balanced() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            total numeric;
            lines integer;
            tx bigint;
        BEGIN
            IF TG_TABLE_NAME = 'ledger_entries' THEN
                tx := NEW.transaction_id;
            ELSE
                tx := NEW.id;
            END IF;
            -- Queries name the desk's schema: runtime sessions set no search_path.
            EXECUTE format(
                'SELECT coalesce(sum(amount), 0), count(*) FROM %I.ledger_entries '
                'WHERE transaction_id = $1', TG_TABLE_SCHEMA)
              INTO total, lines USING tx;
            IF lines < 2 OR total <> 0 THEN
                RAISE EXCEPTION 'ledger transaction % is unbalanced: % entries summing to %',
                    tx, lines, total
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in ("ledger_transactions", "ledger_entries"):
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_balanced()"
        )
        # Evidence, like the engine's journal: rows are only ever added.
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION account_journal_guard()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION account_journal_guard()"
        )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("ledger_transactions")
    op.execute("DROP FUNCTION ledger_balanced()")
    op.drop_table("ledger_accounts")
