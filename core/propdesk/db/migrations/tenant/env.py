"""Alembic environment for one tenant schema (run by propdesk.db.migrate, once per tenant).

Migrations write unqualified names; ``SET LOCAL search_path`` points them at the tenant's
schema for this transaction only. This is the one place the code uses ``search_path``.
"""

from alembic import context

from propdesk.tenancy.naming import quote_schema

connection = context.config.attributes["connection"]
schema = context.config.attributes["schema"]
connection.exec_driver_sql(f"SET LOCAL search_path TO {quote_schema(schema)}")
context.configure(
    connection=connection,
    target_metadata=None,
    version_table_schema=schema,
    include_schemas=False,
)
with context.begin_transaction():
    context.run_migrations()
