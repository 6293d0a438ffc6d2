"""The challenge catalogue: versions of each product, immutable once published.

Revision ID: t0002
Revises: t0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("product_code", sa.String(40), nullable=False),
        # NULL while a draft: a number is given when it is published.
        sa.Column("version", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("content", JSONB, nullable=False),
        sa.Column("content_hash", sa.String(71), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("published_by", sa.Text),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("retired_by", sa.Text),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name="ck_catalogue_versions_status"
        ),
        sa.CheckConstraint(
            "(status = 'draft') = (version IS NULL) AND (version IS NULL OR version >= 1)",
            name="ck_catalogue_versions_version",
        ),
        sa.CheckConstraint(
            "(status = 'draft') = (published_at IS NULL)", name="ck_catalogue_versions_published"
        ),
        sa.CheckConstraint(
            "(status = 'retired') = (retired_at IS NOT NULL)", name="ck_catalogue_versions_retired"
        ),
        sa.UniqueConstraint(
            "product_code", "version", name="uq_catalogue_versions_product_code_version"
        ),
    )
    op.create_index(
        "uq_catalogue_versions_one_draft",
        "catalogue_versions",
        ["product_code"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
    )
    # Published content is what accounts were sold under and what verdicts cite: even the
    # owner role cannot rewrite it without dropping this trigger on purpose.
    op.execute(
        """
        CREATE FUNCTION catalogue_versions_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                RAISE EXCEPTION 'catalogue versions cannot be truncated';
            END IF;
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 'draft' THEN
                    RAISE EXCEPTION 'catalogue version %@v% is %: it cannot be deleted',
                        OLD.product_code, OLD.version, OLD.status;
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status <> 'draft' AND (
                NEW.content IS DISTINCT FROM OLD.content
                OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
                OR NEW.product_code IS DISTINCT FROM OLD.product_code
                OR NEW.version IS DISTINCT FROM OLD.version
            ) THEN
                RAISE EXCEPTION 'catalogue version %@v% is %: its content is immutable',
                    OLD.product_code, OLD.version, OLD.status;
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
                (OLD.status = 'draft' AND NEW.status = 'published')
                OR (OLD.status = 'published' AND NEW.status = 'retired')
            ) THEN
                RAISE EXCEPTION 'catalogue version %@v%: status % -> % refused',
                    OLD.product_code, OLD.version, OLD.status, NEW.status;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER catalogue_versions_guard BEFORE UPDATE OR DELETE ON catalogue_versions "
        "FOR EACH ROW EXECUTE FUNCTION catalogue_versions_guard()"
    )
    op.execute(
        "CREATE TRIGGER catalogue_versions_no_truncate BEFORE TRUNCATE ON catalogue_versions "
        "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_versions_guard()"
    )


def downgrade() -> None:
    op.drop_table("catalogue_versions")
    op.execute("DROP FUNCTION catalogue_versions_guard()")
