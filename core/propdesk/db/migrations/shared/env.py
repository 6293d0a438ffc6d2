"""Alembic environment for the shared ``propdesk`` schema (run by propdesk.db.migrate)."""

from alembic import context

from propdesk.tenancy.naming import SHARED_SCHEMA

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table_schema=SHARED_SCHEMA,
    include_schemas=False,
)
with context.begin_transaction():
    context.run_migrations()
