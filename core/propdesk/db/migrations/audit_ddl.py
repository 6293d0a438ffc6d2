"""DDL shared by both trees: the audit tables and the trigger that keeps them append-only."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

#: The hash before the first record of every chain.
GENESIS = "0" * 64


def create_audit_tables(schema: str | None) -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Column("request_id", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        schema=schema,
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
        schema=schema,
    )
    prefix = f'"{schema}".' if schema else ""
    op.execute(f"INSERT INTO {prefix}audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')")  # noqa: S608
    # Defense in depth: the app role has no UPDATE/DELETE grant, and even the owner must
    # disable this trigger on purpose. The hash chain detects whatever gets past both.
    op.execute(
        f"""
        CREATE FUNCTION {prefix}audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit records are append-only (% on audit_log refused)', TG_OP;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {prefix}audit_log "
        f"FOR EACH ROW EXECUTE FUNCTION {prefix}audit_log_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {prefix}audit_log "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}audit_log_append_only()"
    )
