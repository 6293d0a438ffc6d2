"""Data-quality alerts of kind ``bad_event``: an account whose journal holds an event its
evaluation cannot take (the engine stops evaluating it there and says so).

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-21
"""

from alembic import op

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None

NAME = "ck_data_quality_alerts_kind"


def upgrade() -> None:
    op.drop_constraint(NAME, "data_quality_alerts", type_="check")
    op.create_check_constraint(
        NAME, "data_quality_alerts", "kind IN ('stale', 'gap', 'late', 'conflict', 'bad_event')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM data_quality_alerts WHERE kind = 'bad_event'")
    op.drop_constraint(NAME, "data_quality_alerts", type_="check")
    op.create_check_constraint(
        NAME, "data_quality_alerts", "kind IN ('stale', 'gap', 'late', 'conflict')"
    )
